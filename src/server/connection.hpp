#pragma once
/// @file
/// Client connections: one coroutine per connection reads requests with
/// Beast's parser under the configured limits and deadlines, hands them to
/// the Dispatcher and writes the responses (HTTP/1.1 keep-alive, optional
/// TLS). Each connection lives on the I/O thread that accepted it for it.

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <unordered_set>

#include "server/dispatcher.hpp"
#include "server/metrics.hpp"
#include "server/serving_state.hpp"
#include "server/tls.hpp"

namespace relais::server {

/// What every connection shares; outlives them all.
struct ConnectionEnv {
    const Dispatcher& dispatcher;
    MetricsRegistry& metrics;
    const StateSlot& slot;  ///< limits are read from it at each request
    const std::atomic<bool>& draining;
    const TlsSlot* tls;  ///< null: plain HTTP
};

/// A connection as the drain sees it.
class DrainableConnection {
public:
    virtual ~DrainableConnection() = default;
    /// Closes the connection at once if it is waiting for a request;
    /// otherwise it finishes the request in progress, then closes.
    virtual void drain() = 0;
    /// Ends the response stream being sent, if any (core/response_stream.hpp).
    virtual void end_stream() = 0;
};

/// The open connections of one I/O thread. Used only on that thread, so it
/// needs no lock.
class ConnectionSet {
public:
    void add(DrainableConnection* connection) { members_.insert(connection); }
    void remove(DrainableConnection* connection) { members_.erase(connection); }
    void drain_all();
    void end_streams();

private:
    std::unordered_set<DrainableConnection*> members_;
};

/// Serves `socket` on its own executor until it closes. The caller has
/// already counted it in `env.metrics`' open connections; the connection
/// uncounts itself when it ends. `rejected`: the server is at
/// `max_connections`, so the first request gets 503 `overloaded` and the
/// connection closes. `set` must belong to the socket's I/O thread.
void start_connection(boost::asio::ip::tcp::socket socket, const ConnectionEnv& env,
                      ConnectionSet& set, bool rejected);

}  // namespace relais::server
