#include "server/connection.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "core/exception_type.hpp"
#include "core/log.hpp"
#include "core/response_stream.hpp"
#include "server/request_log.hpp"
#include "server/request_target.hpp"

namespace relais::server {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using TlsStream = net::ssl::stream<tcp::socket>;
using namespace std::chrono_literals;

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

/// Bytes asked for when waiting for the first byte of a request.
constexpr std::size_t first_read_bytes = 4096;
/// What Beast's HTTP reads ask the buffer for at most, per read.
constexpr std::size_t beast_read_bytes = 64 * 1024;
/// The largest piece of a streamed body handed to a connector at once.
constexpr std::size_t streamed_piece_bytes = 64 * 1024;
/// The longest a streamed body may take in all (each piece has the read
/// timeout): 28 MB at 32 KB/s. Shorter than the outbox keeps document
/// pieces no message holds (an hour), so an upload in progress keeps them.
constexpr auto streamed_body_time = 15min;
/// A connection over max_connections gets this long for its TLS handshake
/// and again to send its request.
constexpr auto rejected_read_timeout = 2s;
/// After an error response, unread request bytes are discarded for this
/// long (or up to linger_bytes) before closing, so that the client reads
/// the response instead of a connection reset.
constexpr auto linger_timeout = 2s;
constexpr std::size_t linger_bytes = 1024 * 1024;
constexpr auto tls_shutdown_timeout = 1s;

std::string to_string(beast::string_view text) {
    return std::string(text.data(), text.size());
}

std::string request_id_of(const http::fields& fields) {
    const auto found = fields.find("X-Request-ID");
    if (found == fields.end()) {
        return request_id_from(nullptr);
    }
    const std::string sent = to_string(found->value());
    return request_id_from(&sent);
}

std::vector<Header> headers_of(const http::fields& fields) {
    std::vector<Header> headers;
    headers.reserve(16);
    for (const auto& field : fields) {
        headers.push_back({std::string(field.name_string()), std::string(field.value())});
    }
    return headers;
}

/// Headers a connector may not set: framing and connection management are
/// the server's, and a CR/LF would split the response.
bool connector_header_allowed(const Header& header) noexcept {
    static constexpr std::array<std::string_view, 10> reserved{
        "content-length", "transfer-encoding", "connection",   "keep-alive",  "upgrade", "te",
        "trailer",        "proxy-connection",  "content-type", "x-request-id"};
    if (header.name.empty()) {
        return false;
    }
    for (const char c : header.name) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= ' ' || byte >= 0x7f || c == ':') {
            return false;
        }
    }
    for (const char c : header.value) {
        if (c == '\r' || c == '\n' || c == '\0') {
            return false;
        }
    }
    for (const auto name : reserved) {
        if (iequals_ascii(header.name, name)) {
            return false;
        }
    }
    return true;
}

/// The status line and headers of `response`, written by hand: Beast's
/// field container and serializer cost more than the request's own routing.
/// Content-Length is the body's size, also for HEAD, whose body is not sent.
/// A streamed response has no length and always closes the connection.
/// How the end of a response body is known.
enum class Framing {
    length,   ///< Content-Length
    chunked,  ///< streamed, HTTP/1.1
    close,    ///< streamed, HTTP/1.0: the body ends with the connection
};

std::string response_head(const HttpResponse& response, std::string_view request_id,
                          unsigned version, bool keep_alive, Framing framing) {
    if (response.status > 999) {
        // What Beast's serializer did: the connection fails, nothing is sent.
        throw std::invalid_argument("invalid status-code");
    }
    // A type with a line break would split the response.
    const std::string_view content_type =
        response.content_type.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos
            ? std::string_view(response.content_type)
            : std::string_view("application/octet-stream");
    const auto reason = http::obsolete_reason(http::int_to_status(response.status));
    std::size_t size = 96 + reason.size() + content_type.size() + request_id.size();
    for (const auto& header : response.headers) {
        size += header.name.size() + header.value.size() + 4;
    }
    std::string out;
    out.reserve(size);
    out.append("HTTP/")
        .append(std::to_string(version / 10))
        .append(".")
        .append(std::to_string(version % 10))
        .append(" ")
        .append(std::to_string(response.status))
        .append(" ")
        .append(reason.data(), reason.size())
        .append("\r\nContent-Type: ")
        .append(content_type)
        .append("\r\n");
    for (const auto& header : response.headers) {
        if (connector_header_allowed(header)) {
            out.append(header.name).append(": ").append(header.value).append("\r\n");
        }
    }
    out.append("X-Request-ID: ").append(request_id).append("\r\n");
    // HTTP/1.1 keeps the connection unless told otherwise, HTTP/1.0 the reverse.
    if (version >= 11 && !keep_alive) {
        out.append("Connection: close\r\n");
    } else if (version < 11 && keep_alive) {
        out.append("Connection: keep-alive\r\n");
    }
    switch (framing) {
        case Framing::length:
            out.append("Content-Length: ")
                .append(std::to_string(response.body.size()))
                .append("\r\n");
            break;
        case Framing::chunked:
            out.append("Transfer-Encoding: chunked\r\n");
            break;
        case Framing::close:
            break;
    }
    out.append("\r\n");
    return out;
}

/// Errors of a request that cannot be read: nullopt means the client went
/// away (or never sent a whole request) and gets no answer.
std::optional<ErrorClass> refusal_class(const boost::system::error_code& ec, bool timed_out) {
    if (timed_out) {
        return ErrorClass::request_timeout;
    }
    // buffer_overflow: framing past the head (a chunk's size line, trailers)
    // over what the buffer may hold.
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
        return ErrorClass::headers_too_large;
    }
    if (ec == http::error::body_limit) {
        return ErrorClass::payload_too_large;
    }
    if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
        return ErrorClass::bad_request;
    }
    return std::nullopt;
}

template <class Stream>
class Connection final : public DrainableConnection,
                         public std::enable_shared_from_this<Connection<Stream>> {
public:
    Connection(Stream stream, const ConnectionEnv& env, ConnectionSet& set)
        : stream_(std::move(stream)), deadline_(stream_.get_executor()), env_(env), set_(set) {
        boost::system::error_code ec;
        remote_ = socket().remote_endpoint(ec).address();
        remote_text_ = ec ? std::string("-") : remote_.to_string();
        set_.add(this);
    }

    ~Connection() override {
        set_.remove(this);
        env_.metrics.connection_closed();
    }

    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    net::awaitable<void> run(bool rejected) {
        struct WatchdogStopper {
            Connection& connection;
            ~WatchdogStopper() { connection.stop_watchdog(); }
        } const stopper{*this};
        const bool shook_hands = co_await handshake(rejected);
        if (!shook_hands) {
            co_await close(false);
            co_return;
        }
        if (rejected) {
            co_await refuse_overloaded();
            co_return;
        }
        bool first = true;
        while (!draining()) {
            const ServerLimits limits = current_limits();
            // Body bytes leave the buffer as they are parsed; what stays is
            // framing (the head, a chunk's size line, trailers), which Beast
            // bounds for the head only. A read adds at most Beast's 64 KiB.
            buffer_.max_size(std::max(buffer_.size(), limits.header_bytes + beast_read_bytes));
            if (buffer_.size() == 0) {
                waiting_ = true;
                arm(first ? limits.read_timeout : limits.idle_timeout);
                auto [ec, n] =
                    co_await stream_.async_read_some(buffer_.prepare(first_read_bytes), use_tuple);
                disarm();
                waiting_ = false;
                if (ec) {
                    // Idle timeout, drain or the client left: nothing to answer.
                    break;
                }
                buffer_.commit(n);
            }
            first = false;
            if (!co_await serve_request(limits)) {
                co_return;
            }
        }
        co_await close(false);
    }

    void drain() override {
        draining_ = true;
        end_stream();
        if (waiting_) {
            boost::system::error_code ignored;
            socket().cancel(ignored);
        }
    }

    void end_stream() override {
        if (streaming_) {
            streaming_->stop();
        }
    }

private:
    static constexpr bool is_tls = std::is_same_v<Stream, TlsStream>;
    using Request = http::request_parser<http::string_body>;

    /// The body of a call to a streamed route, read from the connection
    /// as the connector asks for it, through a parser that takes over the
    /// one the head was read with (and its body limit).
    class StreamedBody final : public BodyReader {
    public:
        StreamedBody(Connection& connection, Request&& head,
                     std::chrono::steady_clock::duration timeout, bool expects_continue)
            : connection_(connection),
              parser_(std::move(head)),
              timeout_(timeout),
              deadline_(std::chrono::steady_clock::now() + streamed_body_time),
              expects_continue_(expects_continue),
              piece_(streamed_piece_bytes) {}

        net::awaitable<std::string_view> next() override {
            if (expects_continue_) {
                expects_continue_ = false;
                // Bounded like every write: a client that reads nothing would
                // otherwise hold the connector's concurrency slot for good.
                connection_.arm(std::min(timeout_, deadline_ - std::chrono::steady_clock::now()));
                const boost::system::error_code ec = co_await connection_.continue_interim();
                connection_.disarm();
                if (ec) {
                    failure_ =
                        refusal_class(ec, connection_.timed_out_).value_or(ErrorClass::bad_request);
                }
            }
            auto& body = parser_.get().body();
            while (!parser_.is_done() && !failure_) {
                body.data = piece_.data();
                body.size = piece_.size();
                // Each piece within read_timeout, all of them within
                // streamed_body_time.
                connection_.arm(std::min(timeout_, deadline_ - std::chrono::steady_clock::now()));
                auto [ec, n] = co_await http::async_read_some(
                    connection_.stream_, connection_.buffer_, parser_, use_tuple);
                connection_.disarm();
                if (ec && ec != http::error::need_buffer) {
                    failure_ =
                        refusal_class(ec, connection_.timed_out_).value_or(ErrorClass::bad_request);
                    break;
                }
                // A read may end on a chunk's head, with no byte of the body.
                if (const std::size_t read = piece_.size() - body.size; read > 0) {
                    co_return std::string_view(piece_.data(), read);
                }
            }
            co_return std::string_view();
        }

        std::optional<ErrorClass> failure() const noexcept override { return failure_; }

        /// Read to its last byte: the connection may serve another request.
        bool complete() const noexcept { return parser_.is_done() && !failure_; }

    private:
        Connection& connection_;
        http::request_parser<http::buffer_body> parser_;
        std::chrono::steady_clock::duration timeout_;
        std::chrono::steady_clock::time_point deadline_;
        bool expects_continue_;
        std::vector<char> piece_;
        std::optional<ErrorClass> failure_;
    };

    /// Writes the interim `100 Continue` a client sending
    /// `Expect: 100-continue` waits for before its body.
    net::awaitable<boost::system::error_code> continue_interim() {
        http::response<http::empty_body> go_on{http::status::continue_, 11};
        auto [ec, n] = co_await http::async_write(stream_, go_on, use_tuple);
        co_return ec;
    }

    tcp::socket& socket() noexcept {
        if constexpr (is_tls) {
            return stream_.next_layer();
        } else {
            return stream_;
        }
    }

    bool draining() const noexcept {
        return draining_ || env_.draining.load(std::memory_order_acquire);
    }

    ServerLimits current_limits() const {
        return env_.slot.load()->runtime().config().server.limits;
    }

    // A watchdog rather than beast::tcp_stream's timeouts: those close the
    // socket, and a 408 must still be written after a read times out.
    // Arming only records the deadline: the timer is restarted only when it
    // would fire too late, and when it fires early it checks the deadline
    // and waits again. Re-arming a timer three times per request (cancel,
    // completion, new wait) cost more than the request's own parsing.
    void arm(std::chrono::steady_clock::duration timeout) {
        timed_out_ = false;
        deadline_at_ = std::chrono::steady_clock::now() + timeout;
        if (!watchdog_pending_ || watchdog_expiry_ > deadline_at_) {
            start_watchdog();
        }
    }

    void disarm() { deadline_at_ = std::chrono::steady_clock::time_point::max(); }

    void start_watchdog() {
        watchdog_pending_ = true;
        watchdog_expiry_ = deadline_at_;
        deadline_.expires_at(deadline_at_);
        deadline_.async_wait([self = this->shared_from_this(),
                              generation = ++generation_](const boost::system::error_code& ec) {
            if (generation != self->generation_) {
                return;
            }
            self->watchdog_pending_ = false;
            if (ec || self->deadline_at_ == std::chrono::steady_clock::time_point::max()) {
                return;
            }
            if (std::chrono::steady_clock::now() < self->deadline_at_) {
                self->start_watchdog();
                return;
            }
            self->timed_out_ = true;
            boost::system::error_code ignored;
            self->socket().cancel(ignored);
        });
    }

    /// The pending watchdog holds the connection: it must go when the
    /// connection is done.
    void stop_watchdog() {
        ++generation_;
        watchdog_pending_ = false;
        deadline_.cancel();
    }

    /// A connection over max_connections (`rejected`) gets no longer for its
    /// handshake than for its request head.
    net::awaitable<bool> handshake(bool rejected) {
        if constexpr (is_tls) {
            waiting_ = true;
            const auto timeout = current_limits().read_timeout;
            arm(rejected
                    ? std::min<std::chrono::steady_clock::duration>(timeout, rejected_read_timeout)
                    : timeout);
            auto [ec] = co_await stream_.async_handshake(net::ssl::stream_base::server, use_tuple);
            disarm();
            waiting_ = false;
            if (ec) {
                log::debug("tls_handshake_failed",
                           {{"remote", remote_text_}, {"error", ec.message()}});
                co_return false;
            }
        }
        co_return true;
    }

    /// Reads, dispatches and answers one request whose first byte is in the
    /// buffer. Returns whether the connection stays open for another one.
    net::awaitable<bool> serve_request(const ServerLimits& limits) {
        Request parser;
        parser.header_limit(static_cast<std::uint32_t>(
            std::min<std::size_t>(limits.header_bytes, std::numeric_limits<std::uint32_t>::max())));
        // The route, and so its body limit, is known once the head is read:
        // the limit is checked and set then, before any of the body is.
        parser.body_limit(boost::none);
        arm(limits.read_timeout);
        auto [ec, n] = co_await http::async_read_header(stream_, buffer_, parser, use_tuple);
        const auto started = std::chrono::steady_clock::now();
        // A transfer coding relais cannot frame (anything not ending with
        // chunked) leaves the body's end to guesswork: refused (RFC 9112 6.3),
        // Content-Length or not.
        if (!ec && parser.get().count(http::field::transfer_encoding) > 0 && !parser.chunked()) {
            ec = http::error::bad_transfer_encoding;
        }
        // One Host, none before HTTP/1.1 allowed (RFC 9112 3.2).
        if (!ec) {
            const auto hosts = parser.get().count(http::field::host);
            if (hosts > 1 || (hosts == 0 && parser.get().version() >= 11)) {
                ec = http::error::bad_field;
            }
        }
        // The head's fields, before the body: Beast adds a chunked body's
        // trailers to the same fields, and a trailer must not pass for a
        // header (credentials, request id).
        std::vector<Header> headers;
        std::string request_id;
        if (!ec) {
            headers = headers_of(parser.get());
            request_id = request_id_of(parser.get());
        }
        bool streamed = false;
        if (!ec && !parser.is_done()) {
            const BodyPolicy policy = env_.dispatcher.body_policy(parser.get().target());
            const auto length = parser.content_length();
            if (length && *length > policy.limit) {
                ec = http::error::body_limit;
            } else {
                parser.body_limit(policy.limit);
                streamed = policy.streamed;
            }
        }
        const bool expects_continue =
            !ec && !parser.is_done() && parser.get().version() >= 11 &&
            iequals_ascii(parser.get()[http::field::expect], "100-continue");
        // A streamed body is read once the call is authenticated: so is the
        // interim 100 sent, so that a refused caller sends none of its body.
        if (expects_continue && !streamed) {
            ec = co_await continue_interim();
        }
        // A request without a body is complete with its head: another read
        // operation would only cost a trip through the executor.
        if (!ec && !parser.is_done() && !streamed) {
            std::tie(ec, n) = co_await http::async_read(stream_, buffer_, parser, use_tuple);
        }
        disarm();
        if (ec) {
            co_await refuse_unread(ec, parser, started);
            co_return false;
        }

        auto& message = parser.get();
        RawRequest raw;
        raw.method = to_string(message.method_string());
        raw.target = to_string(message.target());
        raw.headers = std::move(headers);
        raw.body = std::move(message.body());
        raw.remote = remote_;
        raw.request_id = request_id;
        const std::string method = raw.method;
        const unsigned version = message.version();
        const bool client_keeps_alive = message.keep_alive();
        const bool head = message.method() == http::verb::head;
        // From here on `message` belongs to the parser the body is read with.
        std::optional<StreamedBody> body;
        if (streamed && !parser.is_done()) {
            body.emplace(*this, std::move(parser), limits.read_timeout, expects_continue);
            raw.body_reader = &*body;
        }

        Outcome outcome;
        try {
            outcome = co_await env_.dispatcher.dispatch(std::move(raw));
        } catch (...) {
            // Connector exceptions are handled inside; this is for the rest
            // (a failing OpenSSL call while authenticating, memory).
            log::error("dispatch_exception",
                       {{"request_id", request_id}, {"type", current_exception_type()}});
            outcome.response = HttpResponse::failure(ErrorClass::internal_error, "internal error");
        }
        if (outcome.response.stream) {
            co_await serve_stream(outcome, request_id, method, version, head, limits, started);
            co_return false;
        }
        // A body the connector did not read to its end is still on the wire.
        const bool keep_alive = client_keeps_alive && !draining() && (!body || body->complete());
        const unsigned status = outcome.response.status;
        const auto error = outcome.response.error;
        const UpstreamStats upstream = outcome.response.upstream;
        const bool written = co_await write_response(outcome.response, request_id, version,
                                                     keep_alive, head, limits);
        record_request(env_.metrics, {request_id, remote_text_, method, outcome.labels, status,
                                      error, std::chrono::steady_clock::now() - started, upstream});
        if (!written) {
            co_await close(false);
            co_return false;
        }
        if (!keep_alive) {
            // Body bytes left unread: the client must read the answer, not
            // a reset.
            co_await close(body && !body->complete());
            co_return false;
        }
        co_return true;
    }

    /// Answers a request that could not be read whole (too large, too slow,
    /// malformed), if the client is still there, then closes.
    net::awaitable<void> refuse_unread(const boost::system::error_code& ec, Request& parser,
                                       std::chrono::steady_clock::time_point started) {
        const auto refusal = refusal_class(ec, timed_out_);
        if (!refusal) {
            co_await close(false);
            co_return;
        }
        // A head refused for its Content-Length is not "done", but its
        // target and fields are read: enough to answer a SOAP caller a fault.
        const auto& head = parser.get();
        HttpResponse response = env_.dispatcher.refusal(*refusal, "the request could not be read",
                                                        to_string(head.target()), headers_of(head));
        if (!parser.is_header_done()) {
            co_await refuse(std::move(response), new_request_id(), "", started);
            co_return;
        }
        co_await refuse(std::move(response), request_id_of(head), to_string(head.method_string()),
                        started);
    }

    /// The connection is one too many: read its request head (briefly),
    /// answer 503 and close.
    net::awaitable<void> refuse_overloaded() {
        env_.metrics.connection_rejected();
        const ServerLimits limits = current_limits();
        Request parser;
        parser.header_limit(static_cast<std::uint32_t>(
            std::min<std::size_t>(limits.header_bytes, std::numeric_limits<std::uint32_t>::max())));
        arm(std::min<std::chrono::steady_clock::duration>(rejected_read_timeout,
                                                          limits.read_timeout));
        auto [ec, n] = co_await http::async_read_header(stream_, buffer_, parser, use_tuple);
        disarm();
        const auto started = std::chrono::steady_clock::now();
        if (ec) {
            co_await close(false);
            co_return;
        }
        const auto& head = parser.get();
        co_await refuse(env_.dispatcher.refusal(ErrorClass::overloaded, "too many connections",
                                                to_string(head.target()), headers_of(head)),
                        request_id_of(head), to_string(head.method_string()), started);
    }

    net::awaitable<void> refuse(HttpResponse response, std::string request_id, std::string method,
                                std::chrono::steady_clock::time_point started) {
        const unsigned status = response.status;
        const auto error = response.error;
        co_await write_response(response, request_id, 11, false, false, current_limits());
        const RequestLabels labels;
        record_request(env_.metrics, {request_id, remote_text_, method, labels, status, error,
                                      std::chrono::steady_clock::now() - started});
        co_await close(true);
    }

    net::awaitable<bool> write_response(HttpResponse& response, std::string_view request_id,
                                        unsigned version, bool keep_alive, bool head,
                                        const ServerLimits& limits) {
        const std::string out =
            response_head(response, request_id, version, keep_alive, Framing::length);
        const std::string_view body = head ? std::string_view() : std::string_view(response.body);
        co_return co_await send(
            std::array<net::const_buffer, 2>{net::buffer(out), net::buffer(body)}, limits);
    }

    template <class Buffers>
    net::awaitable<bool> send(const Buffers& buffers, const ServerLimits& limits) {
        // A client that does not read its response is as slow as one that
        // does not send its request.
        arm(limits.read_timeout);
        auto [ec, n] = co_await net::async_write(stream_, buffers, use_tuple);
        disarm();
        co_return !ec;
    }

    /// Sends a streamed response (core/response_stream.hpp): the head, the
    /// body, then each piece the stream yields, until it ends, the client
    /// leaves, a write times out or relais drains. The request is logged
    /// and counted once its head is sent. The connection closes afterwards.
    net::awaitable<void> serve_stream(Outcome& outcome, const std::string& request_id,
                                      const std::string& method, unsigned version, bool head,
                                      const ServerLimits& limits,
                                      std::chrono::steady_clock::time_point started) {
        const std::shared_ptr<ResponseStream> stream = outcome.response.stream;
        // Set before the first write so that a drain from now on stops it.
        streaming_ = stream;
        const Framing framing = version >= 11 ? Framing::chunked : Framing::close;
        std::string out = response_head(outcome.response, request_id, version, false, framing);
        if (!head) {
            append_piece(out, outcome.response.body, framing);
        }
        bool sent = co_await send(net::buffer(out), limits);
        record_request(env_.metrics,
                       {request_id, remote_text_, method, outcome.labels, outcome.response.status,
                        outcome.response.error, std::chrono::steady_clock::now() - started,
                        outcome.response.upstream});
        // A stream may last for hours: it must not pin the configuration
        // it came from across reloads (core/response_stream.hpp).
        outcome.state.reset();
        if (sent && !head) {
            if (!draining()) {
                watch_for_close(stream);
                while (const auto piece = co_await stream->next()) {
                    if (piece->empty()) {
                        continue;
                    }
                    out.clear();
                    append_piece(out, *piece, framing);
                    if (!co_await send(net::buffer(out), limits)) {
                        sent = false;
                        break;
                    }
                }
            }
            if (sent && framing == Framing::chunked) {
                co_await send(net::buffer(std::string_view("0\r\n\r\n")), limits);
            }
        }
        stream->stop();
        streaming_.reset();
        // The watch is the only operation left on the socket. TLS gets no
        // close_notify: the watch may have consumed part of the client's.
        boost::system::error_code ignored;
        socket().cancel(ignored);
        socket().shutdown(tcp::socket::shutdown_both, ignored);
        socket().close(ignored);
    }

    static void append_piece(std::string& out, std::string_view piece, Framing framing) {
        if (piece.empty()) {
            return;
        }
        if (framing == Framing::chunked) {
            char size[20];
            const int length = std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
            out.append(size, static_cast<std::size_t>(length)).append(piece).append("\r\n");
        } else {
            out.append(piece);
        }
    }

    /// A client that closes (or sends anything) while it receives a stream
    /// is done with it: waiting for the next event to fail on write could
    /// take until the next heartbeat.
    void watch_for_close(const std::shared_ptr<ResponseStream>& stream) {
        socket().async_read_some(
            net::buffer(watch_byte_),
            [self = this->shared_from_this(), stream](const boost::system::error_code&,
                                                      std::size_t) { stream->stop(); });
    }

    /// Closes the connection. `linger`: the request may not have been read
    /// whole; discard what the client still sends for a moment first.
    net::awaitable<void> close(bool linger) {
        if constexpr (is_tls) {
            arm(tls_shutdown_timeout);
            co_await stream_.async_shutdown(use_tuple);
            disarm();
        }
        boost::system::error_code ec;
        socket().shutdown(tcp::socket::shutdown_send, ec);
        if (linger && !ec) {
            arm(linger_timeout);
            std::array<char, 4096> sink;
            std::size_t discarded = 0;
            while (discarded < linger_bytes) {
                auto [read_ec, n] = co_await socket().async_read_some(net::buffer(sink), use_tuple);
                if (read_ec) {
                    break;
                }
                discarded += n;
            }
            disarm();
        }
        socket().close(ec);
    }

    Stream stream_;
    net::steady_timer deadline_;
    const ConnectionEnv& env_;
    ConnectionSet& set_;
    beast::flat_buffer buffer_;
    net::ip::address remote_;
    std::string remote_text_;
    std::chrono::steady_clock::time_point deadline_at_ =
        std::chrono::steady_clock::time_point::max();
    std::chrono::steady_clock::time_point watchdog_expiry_;
    std::uint64_t generation_ = 0;
    bool watchdog_pending_ = false;
    bool timed_out_ = false;
    bool waiting_ = false;
    bool draining_ = false;
    std::shared_ptr<ResponseStream> streaming_;  ///< the stream being sent, if any
    std::array<char, 1> watch_byte_{};
};

void log_connection_failure(std::exception_ptr error) {
    if (!error) {
        return;
    }
    // The message may quote request data: only the type is logged.
    try {
        std::rethrow_exception(error);
    } catch (...) {
        log::error("connection_failed", {{"type", current_exception_type()}});
    }
}

net::awaitable<void> serve_connection(tcp::socket socket, const ConnectionEnv& env,
                                      ConnectionSet& set, bool rejected) {
    if (env.tls != nullptr) {
        // The connection keeps the context it started with, even once a
        // reload has replaced it.
        const std::shared_ptr<net::ssl::context> context = env.tls->load();
        auto connection = std::make_shared<Connection<TlsStream>>(
            TlsStream(std::move(socket), *context), env, set);
        co_await connection->run(rejected);
    } else {
        auto connection = std::make_shared<Connection<tcp::socket>>(std::move(socket), env, set);
        co_await connection->run(rejected);
    }
}

}  // namespace

void ConnectionSet::drain_all() {
    // drain() only cancels I/O: no connection leaves the set during the loop.
    for (DrainableConnection* connection : members_) {
        connection->drain();
    }
}

void ConnectionSet::end_streams() {
    for (DrainableConnection* connection : members_) {
        connection->end_stream();
    }
}

void start_connection(tcp::socket socket, const ConnectionEnv& env, ConnectionSet& set,
                      bool rejected) {
    auto executor = socket.get_executor();
    net::co_spawn(executor, serve_connection(std::move(socket), env, set, rejected),
                  log_connection_failure);
}

}  // namespace relais::server
