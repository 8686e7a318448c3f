#pragma once
/// @file
/// The HTTP daemon: one io_context per I/O thread, the acceptor on the
/// first one handing connections round-robin to all of them, signal
/// handling (SIGTERM/SIGINT drain and stop, SIGHUP reload) and the state
/// every request starts from.

#include <filesystem>
#include <memory>

#include "core/runtime.hpp"

namespace relais::server {

class GruDemands;

/// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread, and so in every
/// thread it starts, until Server::run() handles them: a signal sent while
/// relais starts (a `systemctl reload` racing the start) waits for it
/// instead of killing the process. Call it before any thread exists.
void hold_stop_signals();

class Server {
public:
    /// `runtime` was loaded from `config_file`, which SIGHUP reloads. Builds
    /// the TLS context if configured; throws std::runtime_error if it
    /// cannot be used.
    /// `demands` was given to the connectors of `runtime` (and is given to
    /// those of each reload); the server binds it to its outbox while it
    /// runs. It must outlive the server.
    Server(std::filesystem::path config_file, std::shared_ptr<const Runtime> runtime,
           GruDemands& demands);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Binds the listening socket, logs `listening` with the bound address
    /// and port, then serves until SIGTERM or SIGINT, drains (requests in
    /// progress finish within `shutdown_grace`) and returns the exit code.
    /// Signals held by hold_stop_signals() are handled from then on (until
    /// the server is destroyed: they are held again while it tears down).
    /// Throws std::runtime_error if the address cannot be bound.
    int run();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace relais::server
