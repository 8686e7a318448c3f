#include "upstream/plain_http.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/system/system_error.hpp>
#include <boost/url/parse.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "core/string_map.hpp"
#include "core/url_encoding.hpp"
#include "upstream/exchange_rules.hpp"

namespace relais::upstream {

namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::beast::string_view;
using boost::system::error_code;
using Failed = std::pair<Failure, std::string>;

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

/// Idle connections kept per I/O thread and how long, as libcurl's
/// connection cache does (CURLOPT_MAXCONNECTS 128 here, CURLOPT_MAXAGE_CONN).
constexpr std::size_t max_idle_connections = 128;
constexpr auto max_idle_age = std::chrono::seconds(118);
/// Headers of a typical answer (nginx sends 8): one allocation for them all.
constexpr std::size_t typical_header_count = 16;
/// Room asked for per read: a typical JSON answer in one system call.
constexpr std::size_t read_bytes = 16 * 1024;

/// One upstream connection: used by one request at a time, idle in the
/// pool in between.
struct Connection {
    explicit Connection(net::io_context& context) : socket(context), timer(context) {}

    tcp::socket socket;
    /// Closes the socket when the request's time is up, which makes the
    /// pending operation fail: one timer per request instead of one per
    /// operation.
    net::steady_timer timer;
    boost::beast::flat_buffer buffer;
    std::uint64_t generation = 0;
    bool timed_out = false;
    Clock::time_point idle_since;
};

using ConnectionPtr = std::shared_ptr<Connection>;

/// Arms the connection's deadline for as long as it lives, and disarms it
/// when the request is done with the connection, however it ends (a
/// cancellation ends the coroutine with an exception).
class Deadline {
public:
    Deadline(const ConnectionPtr& connection, Clock::time_point at) : connection_(*connection) {
        connection->timed_out = false;
        connection->timer.expires_at(at);
        connection->timer.async_wait(
            [connection, generation = ++connection->generation](error_code error) {
                if (error || generation != connection->generation) {
                    return;
                }
                connection->timed_out = true;
                error_code ignored;
                connection->socket.close(ignored);
            });
    }
    ~Deadline() {
        ++connection_.generation;
        connection_.timer.cancel();
    }
    Deadline(const Deadline&) = delete;
    Deadline& operator=(const Deadline&) = delete;

private:
    Connection& connection_;
};

/// Whether an idle connection has stayed silent: neither bytes nor an end
/// from the upstream since its last answer. Bytes there would be taken for
/// the answer to the next request (a body longer than announced, a second
/// answer), whoever sends it; an end would fail it.
bool quiet(tcp::socket& socket) noexcept {
    char byte = 0;
    const auto got = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/// The idle connections of one io_context, by host[:port]. Used only by
/// the thread that runs the context, so it needs no lock.
class ConnectionPool final : public net::execution_context::service {
public:
    using key_type = ConnectionPool;
    static net::execution_context::id id;

    explicit ConnectionPool(net::io_context& context) : net::execution_context::service(context) {
        // Services are shut down newest first. Creating the socket and timer
        // services now makes them older than this one, so they are still
        // alive when shutdown() closes the idle connections.
        const tcp::socket registers_socket_service(context);
        const net::steady_timer registers_timer_service(context);
    }

    /// The most recently used idle connection to `host` (host[:port]), or null.
    ConnectionPtr take(const std::string& host) {
        const auto found = idle_.find(host);
        if (found == idle_.end()) {
            return nullptr;
        }
        auto& connections = found->second;
        const auto now = Clock::now();
        while (!connections.empty()) {
            ConnectionPtr connection = std::move(connections.back());
            connections.pop_back();
            --count_;
            if (now - connection->idle_since < max_idle_age && quiet(connection->socket)) {
                return connection;
            }
        }
        return nullptr;
    }

    /// Keeps `connection` for the next request to `host`, or closes it when
    /// the pool is full.
    void give_back(const std::string& host, ConnectionPtr connection) {
        if (count_ >= max_idle_connections) {
            return;
        }
        const auto now = Clock::now();
        auto& connections = idle_[host];
        // The least recently used come first; drop those too old to be used.
        const auto fresh = std::ranges::find_if(connections, [&](const ConnectionPtr& idle) {
            return now - idle->idle_since < max_idle_age;
        });
        count_ -= static_cast<std::size_t>(fresh - connections.begin());
        connections.erase(connections.begin(), fresh);
        connection->idle_since = now;
        connections.push_back(std::move(connection));
        ++count_;
    }

private:
    void shutdown() override {
        idle_.clear();
        count_ = 0;
    }

    std::unordered_map<std::string, std::vector<ConnectionPtr>> idle_;
    std::size_t count_ = 0;
};

net::execution_context::id ConnectionPool::id;

/// Builds the response straight into a `Response`: no intermediate field
/// container, the body reserved once from Content-Length.
class ResponseParser final : public http::basic_parser<false> {
public:
    ResponseParser(Response& response, std::size_t max_body, bool head)
        : response_(response), max_body_(max_body) {
        header_limit(static_cast<std::uint32_t>(max_header_bytes));
        body_limit(max_body);
        eager(true);
        // The answer to HEAD has no body, whatever its Content-Length says.
        skip(head);
    }

private:
    void on_request_impl(http::verb, string_view, string_view, int, error_code&) override {}

    void on_response_impl(int status, string_view, int, error_code&) override {
        response_.status = status;
        // An interim answer's (100 Continue) headers are not the final one's.
        response_.headers.clear();
        response_.headers.reserve(typical_header_count);
    }

    void on_field_impl(http::field, string_view name, string_view value, error_code&) override {
        response_.headers.push_back(
            {std::string(name.data(), name.size()), std::string(value.data(), value.size())});
    }

    void on_header_impl(error_code&) override {}

    void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
        if (length && *length <= max_body_) {
            response_.body.reserve(static_cast<std::size_t>(*length));
        }
    }

    std::size_t on_body_impl(string_view body, error_code& error) override {
        return append(body, error);
    }

    void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}

    std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code& error) override {
        return append(body, error);
    }

    void on_finish_impl(error_code&) override {}

    std::size_t append(string_view body, error_code& error) {
        if (body.size() > max_body_ - response_.body.size()) {
            error = http::error::body_limit;
            return 0;
        }
        response_.body.append(body.data(), body.size());
        return body.size();
    }

    Response& response_;
    std::size_t max_body_;
};

std::string request_head(const Request& request, const PlainTarget& target) {
    std::size_t size =
        128 + request.method.size() + target.target.size() + target.host_header.size();
    for (const Header& header : request.headers) {
        size += header.name.size() + header.value.size() + 4;
    }
    std::string head;
    head.reserve(size);
    head.append(request.method).append(" ").append(target.target).append(" HTTP/1.1\r\n");
    // libcurl's defaults, unless the caller set its own.
    if (find_header(request.headers, "Host") == nullptr) {
        head.append("Host: ").append(target.host_header).append("\r\n");
    }
    if (find_header(request.headers, "User-Agent") == nullptr) {
        head.append("User-Agent: relais/" RELAIS_VERSION "\r\n");
    }
    if (find_header(request.headers, "Accept") == nullptr) {
        head.append("Accept: */*\r\n");
    }
    for (const Header& header : request.headers) {
        // The framing is the client's: it knows the body it sends.
        if (iequals_ascii(header.name, "Content-Length") ||
            iequals_ascii(header.name, "Transfer-Encoding")) {
            continue;
        }
        head.append(header.name).append(": ").append(header.value).append("\r\n");
    }
    if (sends_body(request)) {
        head.append("Content-Length: ").append(std::to_string(body_size(request))).append("\r\n");
    }
    head.append("\r\n");
    return head;
}

/// Ends the coroutine the way every Asio operation does when it is
/// cancelled; a no-op otherwise.
net::awaitable<void> throw_if_cancelled() {
    const net::cancellation_state state = co_await net::this_coro::cancellation_state;
    if (state.cancelled() != net::cancellation_type::none) {
        throw boost::system::system_error(net::error::operation_aborted);
    }
}

/// Resolves a host name without ever waiting for the resolver past
/// `deadline`: getaddrinfo cannot be interrupted, so the lookup finishes in
/// the background if it is late.
net::awaitable<std::variant<tcp::resolver::results_type, Failed>> resolve(
    net::io_context& context, const PlainTarget& target, Clock::time_point deadline) {
    struct Lookup {
        explicit Lookup(net::io_context& c) : resolver(c), wake(c) {}
        tcp::resolver resolver;
        net::steady_timer wake;
        tcp::resolver::results_type results;
        error_code error;
        bool done = false;
    };
    auto lookup = std::make_shared<Lookup>(context);
    lookup->wake.expires_at(deadline);
    lookup->resolver.async_resolve(target.host, std::to_string(target.port),
                                   [lookup](error_code error, tcp::resolver::results_type results) {
                                       lookup->error = error;
                                       lookup->results = std::move(results);
                                       lookup->done = true;
                                       lookup->wake.cancel();
                                   });
    co_await lookup->wake.async_wait(use_tuple);
    if (!lookup->done) {
        lookup->resolver.cancel();
        co_await throw_if_cancelled();
        co_return Failed{Failure::timeout, "connection timed out"};
    }
    if (lookup->error) {
        co_return Failed{Failure::unreachable, "could not resolve host"};
    }
    co_return std::move(lookup->results);
}

/// Opens `connection` to the target; nullopt once connected.
net::awaitable<std::optional<Failed>> connect(net::io_context& context,
                                              const ConnectionPtr& connection,
                                              const PlainTarget& target, const Request& request,
                                              Clock::time_point deadline) {
    const auto connect_deadline = std::min(deadline, Clock::now() + request.connect_timeout);
    std::vector<tcp::endpoint> endpoints;
    if (target.literal) {
        error_code invalid;
        const auto address = net::ip::make_address(target.host, invalid);
        if (invalid) {
            co_return Failed{Failure::internal, "malformed URL"};
        }
        endpoints.emplace_back(address, target.port);
    } else {
        auto resolved = co_await resolve(context, target, connect_deadline);
        if (auto* failed = std::get_if<Failed>(&resolved)) {
            co_return std::move(*failed);
        }
        for (const auto& entry : std::get<tcp::resolver::results_type>(resolved)) {
            endpoints.push_back(entry.endpoint());
        }
    }
    const Deadline armed(connection, connect_deadline);
    error_code error = net::error::host_not_found;
    for (const tcp::endpoint& endpoint : endpoints) {
        error_code ignored;
        connection->socket.close(ignored);
        std::tie(error) = co_await connection->socket.async_connect(endpoint, use_tuple);
        if (!error || connection->timed_out) {
            break;
        }
    }
    if (connection->timed_out) {
        co_return Failed{Failure::timeout, "connection timed out"};
    }
    if (error) {
        co_await throw_if_cancelled();
        co_return could_not_connect(error.value());
    }
    // libcurl's settings: small requests go out at once, dead peers are noticed.
    connection->socket.set_option(tcp::no_delay(true), error);
    connection->socket.set_option(net::socket_base::keep_alive(true), error);
    co_return std::nullopt;
}

/// One request and its answer on an open connection.
struct Exchange {
    Result result;
    bool retry = false;     ///< nothing came back: worth one more try elsewhere
    bool reusable = false;  ///< the connection can serve another request
};

/// Reads the answer to the request just sent into `out`; the failure if
/// there is no complete one.
net::awaitable<std::optional<Failed>> read_response(Connection& connection, const Request& request,
                                                    bool reused, Exchange& out) {
    Response& response = out.result.response;
    const bool head_request = request.method == "HEAD";
    std::optional<ResponseParser> parser;
    parser.emplace(response, request.max_response_bytes, head_request);
    auto& buffer = connection.buffer;
    bool received = false;
    for (;;) {
        if (buffer.size() > 0) {
            error_code parse_error;
            const std::size_t used = parser->put(buffer.data(), parse_error);
            buffer.consume(used);
            if (parse_error == http::error::header_limit) {
                co_return headers_too_large();
            }
            if (parse_error == http::error::body_limit) {
                co_return body_too_large(request.max_response_bytes);
            }
            if (parse_error && parse_error != http::error::need_more) {
                co_return Failed{Failure::unreachable, "malformed HTTP response"};
            }
            if (parser->is_done()) {
                if (response.status / 100 != 1) {
                    break;
                }
                parser.emplace(response, request.max_response_bytes, head_request);
                continue;
            }
            if (!parse_error && used > 0) {
                continue;
            }
        }
        // Body bytes are handed over as they are parsed: what stays in the
        // buffer is framing (the head, a chunk's size line, trailers), which
        // Beast bounds for the head only.
        if (buffer.size() > max_header_bytes) {
            co_return headers_too_large();
        }
        auto [read_error, n] =
            co_await connection.socket.async_read_some(buffer.prepare(read_bytes), use_tuple);
        if (read_error == net::error::eof && received) {
            error_code eof_error;
            parser->put_eof(eof_error);
            if (eof_error) {
                co_return Failed{Failure::unreachable,
                                 "connection closed before the end of the response"};
            }
            // The body ran to the end of the connection.
            break;
        }
        if (read_error == net::error::eof) {
            out.retry = reused;
            co_return Failed{Failure::unreachable, "connection closed without a response"};
        }
        if (read_error) {
            out.retry = reused && !received;
            co_return Failed{Failure::unreachable, "connection lost while receiving the response"};
        }
        buffer.commit(n);
        received = true;
    }
    out.reusable = parser->keep_alive() && buffer.size() == 0 && !parser->need_eof();
    co_return std::nullopt;
}

Failed lost_while_sending() {
    return {Failure::unreachable, "connection lost while sending the request"};
}

/// Writes the head, then each piece of `source` as it comes; the failure
/// if the body could not all be sent.
net::awaitable<std::optional<Failed>> send_streamed(Connection& connection, const std::string& head,
                                                    BodySource& source, bool reused,
                                                    Exchange& out) {
    const auto executor = co_await net::this_coro::executor;
    const std::uint64_t size = source.size();
    std::uint64_t sent = 0;
    auto [error, written] =
        co_await net::async_write(connection.socket, net::buffer(head), use_tuple);
    while (!error) {
        // A piece is awaited against the request's deadline too: closing
        // the socket would only end a socket operation.
        auto [order, source_error, piece, deadline_error] =
            co_await net::experimental::make_parallel_group(
                net::co_spawn(executor, source.next(), net::deferred),
                connection.timer.async_wait(net::deferred))
                .async_wait(net::experimental::wait_for_one(), net::use_awaitable);
        if (order[0] == 1) {
            // The deadline passed, or the request was cancelled (exchange()
            // then ends the coroutine).
            connection.timed_out = connection.timed_out || !deadline_error;
            co_return lost_while_sending();
        }
        if (source_error) {
            co_return body_unavailable();
        }
        if (piece.empty()) {
            break;
        }
        if (piece.size() > size - sent) {
            co_return body_size_mismatch();
        }
        sent += piece.size();
        std::tie(error, written) =
            co_await net::async_write(connection.socket, net::buffer(piece), use_tuple);
    }
    if (error) {
        out.retry = reused;
        co_return lost_while_sending();
    }
    if (sent != size) {
        co_return body_size_mismatch();
    }
    co_return std::nullopt;
}

net::awaitable<Exchange> exchange(Connection& connection, const std::string& head,
                                  const Request& request, bool reused) {
    Exchange out;
    std::optional<Failed> failed;
    if (request.body_source) {
        failed = co_await send_streamed(connection, head, *request.body_source, reused, out);
    } else {
        const std::array<net::const_buffer, 2> buffers{net::buffer(head),
                                                       net::buffer(request.body)};
        auto [write_error, written] =
            co_await net::async_write(connection.socket, buffers, use_tuple);
        if (write_error) {
            out.retry = reused;
            failed = lost_while_sending();
        }
    }
    if (!failed) {
        failed = co_await read_response(connection, request, reused, out);
    }
    if (!failed) {
        co_return out;
    }
    if (connection.timed_out) {
        out.retry = false;
        failed = Failed{Failure::timeout, "no complete response within the timeout"};
    } else {
        co_await throw_if_cancelled();
    }
    out.result.failure = failed->first;
    out.result.detail = std::move(failed->second);
    co_return out;
}

/// Makes the request's body source start again before the request is sent
/// again; false if it cannot.
bool rewind_body(const Request& request) {
    if (!request.body_source) {
        return true;
    }
    try {
        request.body_source->rewind();
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

/// The host part of a plain target (everything but `target`) for
/// "http://" + authority; nullopt if the plain client does not serve it.
std::optional<PlainTarget> parse_host(std::string_view origin) {
    const auto url = boost::urls::parse_uri(origin);
    // A path here means Boost.URL read only part of the authority as the
    // host: "10.0.0.1.nip.io" gives host 10.0.0.1 and path ".nip.io".
    if (!url || url->scheme_id() != boost::urls::scheme::http || url->has_userinfo() ||
        !url->encoded_path().empty()) {
        return std::nullopt;
    }
    PlainTarget target;
    switch (url->host_type()) {
        case boost::urls::host_type::ipv4:
        case boost::urls::host_type::ipv6:
            target.literal = true;
            break;
        case boost::urls::host_type::name:
            break;
        default:
            return std::nullopt;
    }
    const auto host = url->encoded_host_address();
    // Percent-encoded host names are left to libcurl.
    if (host.empty() || host.find('%') != boost::urls::pct_string_view::npos) {
        return std::nullopt;
    }
    target.host.assign(host.data(), host.size());
    if (url->has_port() && !url->port().empty()) {
        // port_number() wraps numbers past 65535 around: read the digits here.
        const auto port = parse_port(url->port());
        if (!port) {
            return std::nullopt;
        }
        target.port = *port;
    }
    const auto host_and_port = url->encoded_host_and_port();
    target.host_header.assign(host_and_port.data(), host_and_port.size());
    return target;
}

/// parse_host() of `origin`, remembered per thread: a connector calls the
/// same few origins again and again. Null if the plain client does not
/// serve it.
const PlainTarget* host_of(std::string_view origin) {
    /// Origins remembered per thread; beyond, the memory starts again.
    constexpr std::size_t max_remembered = 256;
    thread_local StringMap<std::optional<PlainTarget>> known;
    auto found = known.find(origin);
    if (found == known.end()) {
        if (known.size() >= max_remembered) {
            known.clear();
        }
        found = known.emplace(std::string(origin), parse_host(origin)).first;
    }
    return found->second ? &*found->second : nullptr;
}

}  // namespace

std::optional<PlainTarget> plain_target_of(const Request& request) {
    if (!request.proxy.empty()) {
        return std::nullopt;
    }
    // "http://" authority [path] ["?" query] ["#" fragment]. Anything else
    // (other schemes, a scheme in capitals, no authority) is left to libcurl.
    constexpr std::string_view scheme = "http://";
    const std::string_view url = request.url;
    if (!url.starts_with(scheme)) {
        return std::nullopt;
    }
    const auto authority_end = std::min(url.find_first_of("/?#", scheme.size()), url.size());
    const auto* host = host_of(url.substr(0, authority_end));
    if (host == nullptr) {
        return std::nullopt;
    }
    // Path and query are sent; the fragment is checked and dropped.
    const std::string_view rest = url.substr(authority_end);
    const auto hash = rest.find('#');
    const std::string_view reference = rest.substr(0, hash);
    const std::string_view fragment =
        hash == std::string_view::npos ? std::string_view() : rest.substr(hash + 1);
    if (!valid_uri_chars(reference) || !valid_uri_chars(fragment)) {
        return std::nullopt;
    }
    PlainTarget target = *host;
    target.target.reserve(1 + reference.size());
    if (!reference.starts_with('/')) {
        target.target = "/";
    }
    target.target.append(reference);
    return target;
}

net::awaitable<Result> perform_plain(net::io_context& context, const Request& request,
                                     const PlainTarget& target) {
    auto& pool = net::use_service<ConnectionPool>(context);
    const auto deadline = Clock::now() + request.timeout;
    const std::string head = request_head(request, target);
    ConnectionPtr connection = pool.take(target.host_header);
    for (;;) {
        const bool reused = connection != nullptr;
        if (!reused) {
            connection = std::make_shared<Connection>(context);
            if (auto failed = co_await connect(context, connection, target, request, deadline)) {
                co_return Result{failed->first, std::move(failed->second), {}, {}};
            }
        }
        Exchange done;
        {
            const Deadline armed(connection, deadline);
            done = co_await exchange(*connection, head, request, reused);
        }
        // A request sent on a connection the upstream then closed is sent
        // again on a new one only if sending it twice does no harm: the
        // upstream may have applied it before closing.
        if (done.retry && is_idempotent(request.method)) {
            connection.reset();
            if (!rewind_body(request)) {
                auto [failure, detail] = body_unavailable();
                co_return Result{failure, std::move(detail), {}, {}};
            }
            continue;
        }
        if (done.reusable) {
            pool.give_back(target.host_header, std::move(connection));
        }
        co_return std::move(done.result);
    }
}

}  // namespace relais::upstream
