#include "server/server.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <csignal>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "auth/nonce_cache.hpp"
#include "core/exception_type.hpp"
#include "core/log.hpp"
#include "delivery/engine.hpp"
#include "outbox/outbox.hpp"
#include "server/connection.hpp"
#include "server/delivery_routes.hpp"
#include "server/dispatcher.hpp"
#include "server/gru_demands.hpp"
#include "server/metrics.hpp"
#include "server/reload.hpp"
#include "server/serving_state.hpp"
#include "server/tls.hpp"

namespace relais::server {

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
/// How often the drain checks whether every connection has closed.
constexpr auto drain_poll_interval = 10ms;
/// Pause after a failed accept (out of descriptors...) instead of spinning.
constexpr auto accept_retry_delay = 50ms;

unsigned io_thread_count(unsigned configured) {
    if (configured != 0) {
        return configured;
    }
    return std::max(1u, std::thread::hardware_concurrency());
}

std::string_view signal_name(int signal) noexcept {
    switch (signal) {
        case SIGTERM:
            return "SIGTERM";
        case SIGINT:
            return "SIGINT";
        case SIGHUP:
            return "SIGHUP";
        default:
            return "signal";
    }
}

/// Blocks (SIG_BLOCK) or unblocks (SIG_UNBLOCK) the signals the server
/// handles, in the calling thread.
void set_stop_signals(int how) {
    sigset_t signals;
    sigemptyset(&signals);
    for (const int signal : {SIGTERM, SIGINT, SIGHUP}) {
        sigaddset(&signals, signal);
    }
    pthread_sigmask(how, &signals, nullptr);
}

void run_io_context(net::io_context& context) {
    for (;;) {
        try {
            context.run();
            return;
        } catch (...) {
            log::error("io_thread_exception", {{"type", current_exception_type()}});
        }
    }
}

void log_coroutine_failure(std::exception_ptr error) {
    if (!error) {
        return;
    }
    try {
        std::rethrow_exception(error);
    } catch (...) {
        log::error("server_task_failed", {{"type", current_exception_type()}});
    }
}

/// The outbox under the data directory, with its key (generated on first
/// start unless configured).
std::unique_ptr<outbox::Outbox> open_outbox(const RelaisConfig& config) {
    return std::make_unique<outbox::Outbox>(outbox::directory(config.data_dir),
                                            outbox::load_key(config.outbox.key, config.data_dir),
                                            config.outbox);
}

}  // namespace

struct Server::Impl {
    Impl(std::filesystem::path file, std::shared_ptr<const Runtime> runtime, GruDemands& gru)
        : config_file(std::move(file)),
          applied(runtime->config()),
          demands(gru),
          slot(std::make_shared<const ServingState>(runtime, metrics)),
          tls(runtime->config().server.tls ? make_tls_context(*runtime->config().server.tls)
                                           : nullptr),
          outbox(open_outbox(runtime->config())),
          engine(
              *outbox,
              [this] {
                  // Aliasing: the runtime pointer keeps its serving state alive.
                  auto state = slot.load();
                  return std::shared_ptr<const Runtime>(state, &state->runtime());
              },
              [this](std::string_view connector, std::string_view kind, std::string_view verdict) {
                  metrics.delivery_attempted(connector, kind, verdict);
              }),
          routes(
              *outbox, [this] { engine.wake(); }, gru),
          dispatcher(slot, metrics, nonces, draining, &routes),
          env{dispatcher, metrics, slot, draining, tls.load() != nullptr ? &tls : nullptr},
          reloads(std::in_place, [this] {
              if (reload_configuration(config_file, applied, slot, metrics, &demands,
                                       env.tls != nullptr ? &tls : nullptr)) {
                  end_streams();
              }
          }) {
        const unsigned count = io_thread_count(runtime->config().server.threads);
        for (unsigned i = 0; i < count; ++i) {
            contexts.push_back(std::make_unique<net::io_context>(1));
            connection_sets.push_back(std::make_unique<ConnectionSet>());
        }
        activate_connectors(slot.load()->runtime());
        demands.bind(
            *outbox, [this] { engine.wake(); },
            [this] {
                const auto state = slot.load();
                return state ? state->runtime().config().gru : std::nullopt;
            });
    }

    ~Impl() {
        // Past this point a signal is not handled: held, it cannot kill the
        // process while it tears down.
        hold_stop_signals();
        // A reload still loading would install a configuration and post to
        // the event loops once they are gone: let it finish first.
        reloads.reset();
        // Connectors may outlive the server (the serve command holds the
        // services): they must not reach the outbox once it goes.
        demands.unbind();
        acceptor.reset();
        signals.reset();
        // The configuration goes while the event loops still exist: what a
        // connector holds (a call book's streams) may post to them as it goes.
        slot.exchange(nullptr);
        // Context 0 first: its pending accept may hold a socket of another context.
        for (auto& context : contexts) {
            context.reset();
        }
    }

    void bind() {
        const ServerSettings& settings = applied.server;
        const std::string where = settings.address + ":" + std::to_string(settings.port);
        boost::system::error_code ec;
        tcp::resolver resolver(*contexts.front());
        const auto endpoints =
            resolver.resolve(settings.address, std::to_string(settings.port),
                             tcp::resolver::passive | tcp::resolver::numeric_service, ec);
        if (ec || endpoints.empty()) {
            throw std::runtime_error("cannot resolve " + where + ": " + ec.message());
        }
        const tcp::endpoint endpoint = endpoints.begin()->endpoint();
        acceptor.emplace(*contexts.front());
        acceptor->open(endpoint.protocol(), ec);
        if (!ec) {
            acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
        }
        if (!ec) {
            acceptor->bind(endpoint, ec);
        }
        if (!ec) {
            acceptor->listen(net::socket_base::max_listen_connections, ec);
        }
        if (ec) {
            throw std::runtime_error("cannot listen on " + where + ": " + ec.message());
        }
        const auto bound = acceptor->local_endpoint();
        log::info("listening", {{"address", bound.address().to_string()}, {"port", bound.port()}});
    }

    net::awaitable<void> accept_loop() {
        std::size_t next = 0;
        net::steady_timer pause(*contexts.front());
        for (;;) {
            const std::size_t index = next;
            next = (next + 1) % contexts.size();
            auto [ec, socket] = co_await acceptor->async_accept(
                net::any_io_executor(contexts[index]->get_executor()), use_tuple);
            if (ec) {
                if (ec == net::error::operation_aborted || !acceptor->is_open()) {
                    co_return;
                }
                log::warn("accept_failed", {{"error", ec.message()}});
                pause.expires_after(accept_retry_delay);
                co_await pause.async_wait(use_tuple);
                continue;
            }
            boost::system::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            metrics.connection_opened();
            const auto limit = slot.load()->runtime().config().server.limits.max_connections;
            const bool rejected = metrics.open_connections() > static_cast<std::int64_t>(limit);
            start_connection(std::move(socket), env, *connection_sets[index], rejected);
        }
    }

    net::awaitable<void> signal_loop() {
        for (;;) {
            auto [ec, number] = co_await signals->async_wait(use_tuple);
            if (ec) {
                co_return;
            }
            if (number == SIGHUP) {
                reloads->request();
                continue;
            }
            if (draining.load()) {
                log::warn("stop_forced", {{"signal", signal_name(number)}});
                stop_all();
                co_return;
            }
            begin_drain(number);
        }
    }

    /// Ends every open stream after a reload: its client and grants were
    /// checked against the old configuration. Clients reconnect (EventSource
    /// does so by itself) and are checked again.
    void end_streams() {
        for (std::size_t i = 0; i < contexts.size(); ++i) {
            net::post(*contexts[i], [set = connection_sets[i].get()] { set->end_streams(); });
        }
    }

    void begin_drain(int number) {
        draining.store(true, std::memory_order_release);
        const auto grace = slot.load()->runtime().config().server.shutdown_grace;
        log::info("draining", {{"signal", signal_name(number)},
                               {"open_connections", metrics.open_connections()},
                               {"grace_ms", grace.count()}});
        boost::system::error_code ignored;
        acceptor->close(ignored);
        for (std::size_t i = 0; i < contexts.size(); ++i) {
            net::post(*contexts[i], [set = connection_sets[i].get()] { set->drain_all(); });
        }
        net::co_spawn(*contexts.front(), wait_drained(grace), log_coroutine_failure);
    }

    net::awaitable<void> wait_drained(std::chrono::milliseconds grace) {
        const auto deadline = std::chrono::steady_clock::now() + grace;
        net::steady_timer poll(*contexts.front());
        while (metrics.open_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
            poll.expires_after(drain_poll_interval);
            co_await poll.async_wait(use_tuple);
        }
        const auto left = metrics.open_connections();
        if (left > 0) {
            log::warn("grace_expired", {{"open_connections", left}});
        }
        stop_all();
    }

    void stop_all() {
        for (auto& context : contexts) {
            context->stop();
        }
    }

    int run() {
        bind();
        signals.emplace(*contexts.front(), SIGTERM, SIGINT, SIGHUP);
        // One that came while relais started is handled now.
        set_stop_signals(SIG_UNBLOCK);
        net::co_spawn(*contexts.front(), accept_loop(), log_coroutine_failure);
        net::co_spawn(*contexts.front(), signal_loop(), log_coroutine_failure);

        std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
        for (auto& context : contexts) {
            guards.push_back(net::make_work_guard(*context));
        }
        std::vector<std::thread> threads;
        for (std::size_t i = 1; i < contexts.size(); ++i) {
            threads.emplace_back([&context = *contexts[i]] { run_io_context(context); });
        }
        engine.start();
        log::info("started", {{"version", RELAIS_VERSION},
                              {"threads", contexts.size()},
                              {"connectors", slot.load()->runtime().connectors().size()},
                              {"tls", env.tls != nullptr}});
        run_io_context(*contexts.front());
        for (auto& thread : threads) {
            thread.join();
        }
        engine.stop();
        log::info("stopped", {{"open_connections", metrics.open_connections()}});
        return 0;
    }

    std::filesystem::path config_file;
    AppliedSettings applied;
    /// Built before the server and bound to its outbox while it exists.
    GruDemands& demands;
    MetricsRegistry metrics;
    auth::NonceCache nonces;
    std::atomic<bool> draining{false};
    StateSlot slot;
    TlsSlot tls;
    std::unique_ptr<outbox::Outbox> outbox;
    delivery::Engine engine;
    DeliveryRoutes routes;
    Dispatcher dispatcher;
    ConnectionEnv env;
    std::optional<ReloadThread> reloads;
    std::vector<std::unique_ptr<ConnectionSet>> connection_sets;
    std::vector<std::unique_ptr<net::io_context>> contexts;
    std::optional<tcp::acceptor> acceptor;
    std::optional<net::signal_set> signals;
};

void hold_stop_signals() {
    set_stop_signals(SIG_BLOCK);
}

Server::Server(std::filesystem::path config_file, std::shared_ptr<const Runtime> runtime,
               GruDemands& demands)
    : impl_(std::make_unique<Impl>(std::move(config_file), std::move(runtime), demands)) {}

Server::~Server() = default;

int Server::run() {
    return impl_->run();
}

}  // namespace relais::server
