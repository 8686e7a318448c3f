// The benchmark's floor: the least an HTTP/1.1 proxy built on relais's stack
// (Asio, Beast, C++20 coroutines, mimalloc, one io_context per thread) does
// per request. It reads a request with Beast, forwards it on a kept-alive
// upstream connection, reads the answer with Beast and writes it back:
// no routing, no authentication, no parameters, no JSON. What relais spends
// beyond it is its own work; what it spends beyond nginx is the stack's.
// docs/performance.md (seventh pass).
//
// Not a product: it trusts its one upstream, has no timeouts and no limits
// beyond Beast's defaults, forwards every header as it came (nginx rewrites
// Host and drops hop-by-hop headers), does not retry a kept-alive upstream
// connection that failed, and handles neither HEAD nor 1xx answers. None of
// this is on the benchmark's path.
//
// Usage: relais_bench_floor LISTEN_PORT UPSTREAM_PORT THREADS  (127.0.0.1)

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

/// Room for a whole request or answer of the benchmark in one read. Beast
/// asks the socket for the buffer's free capacity, at least 512 bytes, and
/// the parser empties the buffer after each read, so a buffer that starts
/// empty never grows: every 2.6 KB answer would take six calls.
constexpr std::size_t read_capacity = 16 * 1024;

bool parse_number(std::string_view text, unsigned& value) {
    const auto* end = text.data() + text.size();
    const auto [last, error] = std::from_chars(text.data(), end, value);
    return error == std::errc{} && last == end;
}

net::awaitable<void> serve(tcp::socket client, tcp::endpoint upstream_at) {
    tcp::socket upstream(client.get_executor());
    boost::beast::flat_buffer from_client;
    boost::beast::flat_buffer from_upstream;
    from_client.reserve(read_capacity);
    from_upstream.reserve(read_capacity);
    for (;;) {
        http::request<http::string_body> request;
        if (auto [ec, n] = co_await http::async_read(client, from_client, request, use_tuple); ec) {
            co_return;
        }
        if (!upstream.is_open()) {
            if (auto [ec] = co_await upstream.async_connect(upstream_at, use_tuple); ec) {
                co_return;
            }
            boost::system::error_code ignored;
            upstream.set_option(tcp::no_delay(true), ignored);
        }
        const bool keep_alive = request.keep_alive();
        request.keep_alive(true);
        if (auto [ec, n] = co_await http::async_write(upstream, request, use_tuple); ec) {
            co_return;
        }
        http::response<http::string_body> response;
        if (auto [ec, n] = co_await http::async_read(upstream, from_upstream, response, use_tuple);
            ec) {
            co_return;
        }
        if (!response.keep_alive()) {
            boost::system::error_code ignored;
            upstream.close(ignored);
            from_upstream.clear();
        }
        response.keep_alive(keep_alive);
        if (auto [ec, n] = co_await http::async_write(client, response, use_tuple);
            ec || !keep_alive) {
            co_return;
        }
    }
}

/// Accepts until the process ends. A failed accept (out of descriptors...)
/// is reported and tried again: the benchmark would otherwise see a proxy
/// that is alive and answers nobody.
net::awaitable<void> accept_loop(tcp::acceptor& acceptor,
                                 std::vector<std::unique_ptr<net::io_context>>& contexts,
                                 tcp::endpoint upstream_at) {
    net::steady_timer pause(acceptor.get_executor());
    for (std::size_t next = 0;; ++next) {
        net::io_context& context = *contexts[next % contexts.size()];
        auto [ec, socket] = co_await acceptor.async_accept(context, use_tuple);
        if (ec) {
            std::fprintf(stderr, "relais_bench_floor: accept: %s\n", ec.message().c_str());
            pause.expires_after(std::chrono::milliseconds(100));
            co_await pause.async_wait(use_tuple);
            continue;
        }
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        net::co_spawn(context, serve(std::move(socket), upstream_at), net::detached);
    }
}

}  // namespace

int main(int argc, char** argv) {
    unsigned listen_port = 0;
    unsigned upstream_port = 0;
    unsigned threads = 0;
    if (argc != 4 || !parse_number(argv[1], listen_port) || !parse_number(argv[2], upstream_port) ||
        !parse_number(argv[3], threads) || listen_port > 65535 || upstream_port > 65535 ||
        threads == 0) {
        std::fputs("usage: relais_bench_floor LISTEN_PORT UPSTREAM_PORT THREADS\n", stderr);
        return 2;
    }
    const auto loopback = net::ip::make_address_v4("127.0.0.1");
    const tcp::endpoint upstream_at(loopback, static_cast<unsigned short>(upstream_port));
    std::vector<std::unique_ptr<net::io_context>> contexts;
    for (unsigned i = 0; i < threads; ++i) {
        contexts.push_back(std::make_unique<net::io_context>(1));
    }
    tcp::acceptor acceptor(*contexts.front(),
                           tcp::endpoint(loopback, static_cast<unsigned short>(listen_port)));
    // An exception out of the accept loop ends the process, which the
    // benchmark reports.
    net::co_spawn(*contexts.front(), accept_loop(acceptor, contexts, upstream_at),
                  [](const std::exception_ptr& error) {
                      if (error) {
                          std::rethrow_exception(error);
                      }
                  });
    std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
    for (auto& context : contexts) {
        guards.push_back(net::make_work_guard(*context));
    }
    std::vector<std::thread> workers;
    for (std::size_t i = 1; i < contexts.size(); ++i) {
        workers.emplace_back([&context = *contexts[i]] { context.run(); });
    }
    contexts.front()->run();
}
