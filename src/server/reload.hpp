#pragma once
/// @file
/// Loading a configuration for serving, at start-up and on SIGHUP.
///
/// A reload builds the new Runtime on a thread of its own (loading reads
/// files and dlopens modules, which must never stall an I/O thread), then
/// swaps it in atomically: requests in flight finish on the state they
/// started with. A configuration that does not load leaves the running one
/// in place. Listener settings (listen address, threads, TLS) and the log
/// file are bound at start-up: changing them needs a restart, and a reload
/// says so in a warning.

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "config/relais_config.hpp"
#include "core/runtime.hpp"
#include "server/metrics.hpp"
#include "server/serving_state.hpp"
#include "server/tls.hpp"

namespace relais::server {

/// At start-up: creates the data directory the configuration names (mode
/// 0700) if it is missing, since connectors may open files in it while
/// being built, then loads the runtime, its connectors built with `services`. Throws
/// ConfigErrors.
std::shared_ptr<const Runtime> load_serving_runtime(const std::filesystem::path& config_file,
                                                    ConnectorServices* services);

/// The settings in force that a reload cannot simply replace: it compares
/// the new configuration with them. Only the log level may change, and
/// only while logging to standard error.
struct AppliedSettings {
    ServerSettings server;
    log::Level log_level;
    std::filesystem::path log_file;
    std::filesystem::path data_dir;  ///< the outbox is opened there at start-up
    OutboxSettings outbox;           ///< key and retentions are bound at start-up

    explicit AppliedSettings(const RelaisConfig& config)
        : server(config.server),
          log_level(config.log_level),
          log_file(config.log_file),
          data_dir(config.data_dir),
          outbox(config.outbox) {}
};

/// Tells every connector of `runtime` that it serves (Connector::activate).
void activate_connectors(const Runtime& runtime);

/// Reloads `config_file` into `slot` (connectors built with `services`),
/// logging and counting the outcome. When relais serves TLS (`tls` not
/// null), the certificate and key are read again into a new context there.
/// True when the new configuration is installed. Never throws.
bool reload_configuration(const std::filesystem::path& config_file, AppliedSettings& applied,
                          StateSlot& slot, MetricsRegistry& metrics, ConnectorServices* services,
                          TlsSlot* tls);

/// Runs a job on a thread of its own, one run at a time. Requests made
/// while it runs are merged into one further run.
class ReloadThread {
public:
    explicit ReloadThread(std::function<void()> job);
    /// Waits for a run in progress to finish.
    ~ReloadThread();
    ReloadThread(const ReloadThread&) = delete;
    ReloadThread& operator=(const ReloadThread&) = delete;

    void request();

private:
    void loop();

    std::function<void()> job_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool pending_ = false;
    bool stopping_ = false;
    std::thread thread_;  // last: starts once the members above exist
};

}  // namespace relais::server
