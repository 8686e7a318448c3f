#pragma once
/// @file
/// A response body sent as it is produced, for as long as the connector
/// wants: Server-Sent Events (phonecalls' `calls/stream`). A connector sets
/// `HttpResponse::stream`; the connection writes the status and headers,
/// then each piece `next()` returns as one HTTP/1.1 chunk (HTTP/1.0: until
/// the connection closes), and closes the connection when the stream ends.
///
/// The connection stops the stream when the client goes away, when a write
/// times out (`server.limits.read_timeout`), when a reload installs a new
/// configuration (the client must be authorised again) and when relais
/// drains on SIGTERM. A stream does not hold its connector's concurrency slot: the
/// connector bounds its own streams.
///
/// A stream must not refer to the connector that made it: once the head is
/// sent, the connection lets go of the configuration the request was served
/// on. State the stream needs is shared with it (a module's code stays
/// mapped).

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

namespace relais {

class ResponseStream {
public:
    virtual ~ResponseStream() = default;

    /// Waits for the next bytes to send; nullopt ends the response. Called
    /// on the connection's executor, one call at a time. An empty string is
    /// skipped.
    virtual boost::asio::awaitable<std::optional<std::string>> next() = 0;

    /// The connection gives up on the stream: a pending `next` must complete
    /// soon (with nullopt), and later ones at once. Called on the
    /// connection's executor, possibly more than once.
    virtual void stop() noexcept = 0;
};

}  // namespace relais
