#pragma once
// Shared by the upstream_*_test.cpp files: runs tests/support/fake_upstream.py
// as a child process and drives perform() on a local io_context.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "upstream/http_client.hpp"

extern char** environ;

namespace relais::upstream::testing {

/// tests/support/fake_upstream.py, started with --port 0 and stopped (by
/// closing its standard input, then SIGTERM) when this object goes away.
class FakeUpstreamProcess {
public:
    struct Options {
        bool tls = false;
        bool require_client_cert = false;
    };

    FakeUpstreamProcess() : FakeUpstreamProcess(Options{}) {}

    explicit FakeUpstreamProcess(Options options) {
        std::vector<std::string> args = {"python3",
                                         RELAIS_SOURCE_DIR "/tests/support/fake_upstream.py",
                                         "--port", "0", "--exit-on-eof"};
        if (options.tls) {
            args.emplace_back("--tls");
        }
        if (options.require_client_cert) {
            args.emplace_back("--require-client-cert");
        }
        int to_child[2];
        int from_child[2];
        if (pipe2(to_child, O_CLOEXEC) != 0 || pipe2(from_child, O_CLOEXEC) != 0) {
            throw std::runtime_error("pipe failed");
        }
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
        posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
        std::vector<char*> argv;
        for (auto& arg : args) {
            argv.push_back(arg.data());
        }
        argv.push_back(nullptr);
        const int spawned = posix_spawnp(&pid_, "python3", &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        close(to_child[0]);
        close(from_child[1]);
        stdin_ = to_child[1];
        stdout_ = from_child[0];
        if (spawned != 0) {
            pid_ = -1;
            throw std::runtime_error("cannot start python3");
        }
        read_banner();
        const std::string scheme = options.tls || options.require_client_cert ? "https" : "http";
        base_url = scheme + "://127.0.0.1:" + std::to_string(port);
    }

    FakeUpstreamProcess(const FakeUpstreamProcess&) = delete;
    FakeUpstreamProcess& operator=(const FakeUpstreamProcess&) = delete;

    ~FakeUpstreamProcess() {
        close(stdin_);
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            int status = 0;
            for (int waited_ms = 0; waitpid(pid_, &status, WNOHANG) == 0; waited_ms += 10) {
                if (waited_ms == 5000) {
                    kill(pid_, SIGKILL);
                }
                usleep(10'000);
            }
        }
        close(stdout_);
    }

    std::string url(const std::string& path) const { return base_url + path; }

    unsigned short port = 0;
    std::string base_url;
    std::string ca_file;
    std::string client_cert_file;
    std::string client_key_file;

private:
    void read_banner() {
        std::string pending;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        for (;;) {
            const auto newline = pending.find('\n');
            if (newline != std::string::npos) {
                const std::string line = pending.substr(0, newline);
                pending.erase(0, newline + 1);
                const auto space = line.find(' ');
                const std::string key = line.substr(0, space);
                const std::string value = space == std::string::npos ? "" : line.substr(space + 1);
                if (key == "listening") {
                    port = static_cast<unsigned short>(std::stoi(value));
                    return;
                }
                if (key == "ca_file") {
                    ca_file = value;
                } else if (key == "client_cert_file") {
                    client_cert_file = value;
                } else if (key == "client_key_file") {
                    client_key_file = value;
                }
                continue;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            pollfd readable{stdout_, POLLIN, 0};
            if (left.count() <= 0 || poll(&readable, 1, static_cast<int>(left.count())) <= 0) {
                throw std::runtime_error("fake upstream did not start");
            }
            char buffer[512];
            const ssize_t got = read(stdout_, buffer, sizeof buffer);
            if (got <= 0) {
                throw std::runtime_error("fake upstream exited before listening");
            }
            pending.append(buffer, static_cast<std::size_t>(got));
        }
    }

    pid_t pid_ = -1;
    int stdin_ = -1;
    int stdout_ = -1;
};

/// A loopback port nobody listens on (bound, then released).
inline unsigned short unused_port() {
    boost::asio::io_context context;
    boost::asio::ip::tcp::acceptor acceptor(context,
                                            {boost::asio::ip::make_address("127.0.0.1"), 0});
    return acceptor.local_endpoint().port();
}

/// Runs `task` to completion on `context` and returns its value; rethrows
/// what it threw.
template <typename T>
T run_on(boost::asio::io_context& context, boost::asio::awaitable<T> task) {
    std::optional<T> value;
    std::exception_ptr error;
    boost::asio::co_spawn(context, std::move(task), [&](std::exception_ptr e, T v) {
        error = e;
        value = std::move(v);
    });
    context.run();
    context.restart();
    if (error) {
        std::rethrow_exception(error);
    }
    return std::move(*value);
}

/// perform() on a fresh io_context.
inline Result fetch(Request request) {
    boost::asio::io_context context;
    return run_on(context, perform(std::move(request)));
}

inline Request get(const std::string& url) {
    Request request;
    request.url = url;
    request.timeout = std::chrono::seconds(10);
    return request;
}

/// The response body as JSON (a null document if it is not JSON).
inline rapidjson::Document json_of(const Result& result) {
    rapidjson::Document document;
    document.Parse(result.response.body.c_str());
    if (document.HasParseError()) {
        document.SetNull();
    }
    return document;
}

/// The string at `pointer` in `document`, or "<absent>".
inline std::string string_at(const rapidjson::Document& document, const char* pointer) {
    const rapidjson::Value* value = rapidjson::Pointer(pointer).Get(document);
    if (value == nullptr || !value->IsString()) {
        return "<absent>";
    }
    return {value->GetString(), value->GetStringLength()};
}

/// The integer at `pointer` in `document`, or -1.
inline long long int_at(const rapidjson::Document& document, const char* pointer) {
    const rapidjson::Value* value = rapidjson::Pointer(pointer).Get(document);
    return value != nullptr && value->IsInt64() ? value->GetInt64() : -1;
}

/// The fake's counters: connections, requests, tokens_issued.
inline long long fake_stat(const FakeUpstreamProcess& fake, const char* name) {
    const Result result = fetch(get(fake.url("/_control/stats")));
    return int_at(json_of(result), (std::string("/") + name).c_str());
}

/// The `total` bytes of base64 text a PiecesSource gives, whole.
inline std::string pieces_text(std::uint64_t total) {
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string text(total, '\0');
    for (std::uint64_t i = 0; i < total; ++i) {
        // Varies within and across pieces, so that a piece out of place shows.
        text[i] = alphabet[(i * 2654435761U >> 7) % alphabet.size()];
    }
    return text;
}

/// A BodySource giving pieces_text(total) piece by piece, as the outbox
/// reads a stored document back.
class PiecesSource final : public BodySource {
public:
    struct Options {
        std::uint64_t total = 0;
        std::size_t piece = 64 * 1024;
        std::optional<std::uint64_t> announced{};  ///< size(); `total` if unset
        int delay_every = 3;                       ///< every n-th piece after a timer; 0: none
        std::optional<int> throw_at{};             ///< this piece throws instead
        std::optional<int> stall_at{};             ///< this piece takes an hour
    };

    explicit PiecesSource(Options options) : options_(options), text_(pieces_text(options.total)) {}

    std::uint64_t size() const noexcept override {
        return options_.announced.value_or(options_.total);
    }

    void rewind() override {
        position_ = 0;
        index_ = 0;
        ++rewinds;
    }

    boost::asio::awaitable<std::string_view> next() override {
        const int index = index_++;
        const bool delayed = options_.delay_every > 0 && index % options_.delay_every == 0;
        if (delayed || index == options_.stall_at) {
            const auto wait = index == options_.stall_at ? std::chrono::milliseconds(3'600'000)
                                                         : std::chrono::milliseconds(1);
            boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, wait);
            co_await timer.async_wait(boost::asio::use_awaitable);
        }
        if (index == options_.throw_at) {
            throw std::runtime_error("document unreadable");
        }
        const std::size_t length = std::min<std::size_t>(options_.piece, text_.size() - position_);
        const std::string_view piece(text_.data() + position_, length);
        position_ += length;
        co_return piece;
    }

    int rewinds = 0;

private:
    Options options_;
    std::string text_;
    std::size_t position_ = 0;
    int index_ = 0;
};

/// A request of `method` to `url` whose body comes from a PiecesSource.
inline Request streamed(const std::string& url, PiecesSource::Options options,
                        const std::string& method = "POST") {
    Request request;
    request.method = method;
    request.url = url;
    request.timeout = std::chrono::seconds(30);
    request.headers = {{"Content-Type", "text/plain"}};
    request.body_source = std::make_shared<PiecesSource>(options);
    return request;
}

/// Whether perform(request), cancelled once it has been running a while
/// (its body source stalled by then), ends with operation_aborted.
inline bool cancelled_while_waiting(Request request) {
    boost::asio::io_context context;
    boost::asio::cancellation_signal signal;
    std::exception_ptr error;
    boost::asio::co_spawn(context, perform(std::move(request)),
                          boost::asio::bind_cancellation_slot(
                              signal.slot(), [&](std::exception_ptr e, Result) { error = e; }));
    boost::asio::steady_timer timer(context, std::chrono::milliseconds(300));
    timer.async_wait(
        [&](boost::system::error_code) { signal.emit(boost::asio::cancellation_type::terminal); });
    context.run();
    try {
        if (error) {
            std::rethrow_exception(error);
        }
    } catch (const boost::system::system_error& e) {
        return e.code() == boost::asio::error::operation_aborted;
    }
    return false;
}

}  // namespace relais::upstream::testing
