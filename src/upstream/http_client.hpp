#pragma once
/// @file
/// Outbound HTTP for connectors, on the Asio event loop of the calling
/// thread: a plain HTTP/1.1 client for direct `http://` upstreams, libcurl's
/// multi interface for the rest (https, proxies). No thread per request and
/// no blocking call: `perform` suspends the coroutine until the answer is
/// in. Each I/O thread (io_context) has its own connection pools;
/// connections are reused across requests (docs/upstream.md).

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/http_types.hpp"

namespace relais::upstream {

/// A PEM document held in memory and shared by every request that uses it.
using SharedPem = std::shared_ptr<const std::string>;

/// TLS settings of an upstream. Verification is on unless turned off.
/// The client certificate and key are held in memory (read when the
/// connector is loaded, see read_pem_file) so that opening a TLS connection
/// never reads a file on an I/O thread. The CA file is read by libcurl once
/// per I/O thread and cached.
struct TlsOptions {
    bool verify = true;
    std::string ca_file;    ///< empty: system store
    SharedPem client_cert;  ///< PEM client certificate (mutual TLS), or null
    SharedPem client_key;   ///< PEM key of the client certificate, or null
};

/// Reads a PEM file for TlsOptions; nullptr if it cannot be read. Call it
/// at load time, never on an I/O thread.
SharedPem read_pem_file(const std::string& path);

struct NoAuth {};
struct BasicAuth {
    std::string username;
    std::string password;
};
struct BearerAuth {
    std::string token;
};
struct ApiKeyHeaderAuth {
    std::string header;  ///< e.g. "X-API-Key"
    std::string value;
};
struct OAuth2ClientCredentials {
    std::string token_url;
    std::string client_id;
    std::string client_secret;
    std::string scope;  ///< optional
};
using AuthConfig =
    std::variant<NoAuth, BasicAuth, BearerAuth, ApiKeyHeaderAuth, OAuth2ClientCredentials>;

/// Upstream authentication, shared by all requests of a connector and by
/// every I/O thread. Basic, Bearer and API key headers are computed once.
/// For OAuth2 it fetches the token through `perform` on the event loop of the
/// first caller that needs one, and caches it until shortly before it
/// expires; concurrent callers (on any thread) share that one token request.
/// `tls` and `timeout` apply to the token request.
class Authenticator {
public:
    Authenticator(AuthConfig config, TlsOptions tls, std::chrono::milliseconds timeout);
    ~Authenticator();
    Authenticator(const Authenticator&) = delete;
    Authenticator& operator=(const Authenticator&) = delete;

    struct Impl;

private:
    friend struct AuthenticatorAccess;
    std::unique_ptr<Impl> impl_;
};

/// A request body produced piece by piece, for bodies too large to hold
/// whole (a scanned document read back from the outbox).
class BodySource {
public:
    virtual ~BodySource() = default;
    /// Bytes in all; sent as Content-Length.
    virtual std::uint64_t size() const noexcept = 0;
    /// Starts again from the first byte (the request is sent again).
    virtual void rewind() = 0;
    /// The next piece, valid until the next call; empty once all of it was given.
    /// Runs on the executor of the perform() call. Throws std::runtime_error
    /// when the body cannot be produced (its what() is log-safe words).
    virtual boost::asio::awaitable<std::string_view> next() = 0;
};

/// One outbound request.
struct Request {
    std::string method = "GET";  ///< GET, HEAD, POST, PUT, PATCH or DELETE
    std::string url;             ///< absolute http(s) URL, already escaped by the caller
    std::vector<Header> headers;
    std::string body;
    /// Non-null: the body, sent piece by piece; `body` is then empty.
    std::shared_ptr<BodySource> body_source;
    std::chrono::milliseconds timeout{30'000};  ///< whole exchange
    std::chrono::milliseconds connect_timeout{5'000};
    std::size_t max_response_bytes = 16 * 1024 * 1024;  ///< body; headers: at most 64 KiB
    TlsOptions tls;
    const Authenticator* auth = nullptr;  ///< must outlive the call
    /// Proxy URL ("http://proxy.example:3128"); empty: connect directly.
    /// Proxy environment variables are never used.
    std::string proxy;
};

/// Why no HTTP response could be had. The detail names the cause in words
/// (e.g. "connection refused"), never URLs with query strings or bodies.
enum class Failure {
    none,
    unreachable,  ///< DNS, refused, reset, TLS handshake or verification
    timeout,      ///< connect or total timeout
    too_large,    ///< response over max_response_bytes
    auth_failed,  ///< could not obtain an OAuth2 token
    internal,     ///< curl refused the request (bad URL...), or its BodySource failed
};

struct Response {
    long status = 0;
    std::vector<Header> headers;
    std::string body;
};

struct Result {
    Failure failure = Failure::none;
    std::string detail;
    Response response;  ///< meaningful when failure == none
    std::chrono::microseconds elapsed{0};
};

/// True for the methods that sending twice cannot apply twice (GET, HEAD,
/// PUT, DELETE; RFC 9110 9.2.2).
bool is_idempotent(std::string_view method) noexcept;

/// Performs `request` on the event loop of the calling coroutine, which must
/// run on an `io_context` executor (or a strand of one). Never throws for
/// network errors; they come back in `Result::failure`. Like any Asio
/// operation it supports terminal and partial cancellation, which aborts the
/// transfer and ends the coroutine with `boost::asio::error::operation_aborted`.
/// `elapsed` includes the wait for an OAuth2 token.
boost::asio::awaitable<Result> perform(Request request);

/// Maps a failure to the envelope error class (unreachable/auth → 502
/// upstream-unreachable, timeout → 504 upstream-timeout, too_large → 502
/// upstream-invalid-response, internal and none → 500).
ErrorClass error_class_of(Failure failure) noexcept;

}  // namespace relais::upstream
