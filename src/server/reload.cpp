#include "server/reload.hpp"

#include <optional>
#include <system_error>

#include "core/config_error.hpp"
#include "core/exception_type.hpp"
#include "core/log.hpp"

namespace relais::server {

namespace {

void ensure_data_dir(const RelaisConfig& config) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto status = fs::status(config.data_dir, ec);
    if (fs::exists(status)) {
        if (!fs::is_directory(status)) {
            throw ConfigErrors({ConfigError(config.locations, "/paths/data",
                                            "the data directory " + config.data_dir.string() +
                                                " exists and is not a directory")});
        }
        if ((status.permissions() & (fs::perms::group_all | fs::perms::others_all)) !=
            fs::perms::none) {
            log::warn("data_dir_permissions",
                      {{"path", config.data_dir.string()}, {"expected", "0700"}});
        }
        return;
    }
    fs::create_directories(config.data_dir, ec);
    if (!ec) {
        fs::permissions(config.data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    }
    if (ec) {
        throw ConfigErrors({ConfigError(
            config.locations, "/paths/data",
            "cannot create the data directory " + config.data_dir.string() + ": " + ec.message())});
    }
    log::info("data_dir_created", {{"path", config.data_dir.string()}});
}

void warn_restart_needed(std::string_view setting) {
    log::warn("restart_needed", {{"setting", setting}});
}

/// Compares what a reload cannot change and applies the log level when it can.
void apply_or_warn(AppliedSettings& applied, const RelaisConfig& next) {
    const ServerSettings& now = applied.server;
    if (next.server.address != now.address || next.server.port != now.port) {
        warn_restart_needed("server.listen");
    }
    if (next.server.threads != now.threads) {
        warn_restart_needed("server.threads");
    }
    // The listener speaks TLS or not from start-up on; the certificate and
    // key themselves are reloaded.
    if (next.server.tls.has_value() != now.tls.has_value()) {
        warn_restart_needed("server.tls");
    }
    if (next.log_file != applied.log_file) {
        warn_restart_needed("logging.file");
    }
    if (next.data_dir != applied.data_dir) {
        warn_restart_needed("paths.data");
    }
    const OutboxSettings& outbox = applied.outbox;
    if (next.outbox.key != outbox.key) {
        warn_restart_needed("outbox.key");
    }
    if (next.outbox.retention != outbox.retention ||
        next.outbox.dead_letter_retention != outbox.dead_letter_retention ||
        next.outbox.correlation_retention != outbox.correlation_retention) {
        warn_restart_needed("outbox retention");
    }
    if (next.log_level != applied.log_level) {
        log::set_level(next.log_level);
        applied.log_level = next.log_level;
    }
}

}  // namespace

std::shared_ptr<const Runtime> load_serving_runtime(const std::filesystem::path& config_file,
                                                    ConnectorServices* services) {
    std::optional<RelaisConfig> config;
    try {
        config = load_relais_config(config_file);
    } catch (const ConfigErrors&) {
        // load_runtime reports them, with every other error of the configuration.
    }
    if (config) {
        ensure_data_dir(*config);
    }
    return load_runtime(config_file, services);
}

void activate_connectors(const Runtime& runtime) {
    for (const auto& entry : runtime.connectors()) {
        entry->connector->activate();
    }
}

bool reload_configuration(const std::filesystem::path& config_file, AppliedSettings& applied,
                          StateSlot& slot, MetricsRegistry& metrics, ConnectorServices* services,
                          TlsSlot* tls) {
    log::info("reload_started", {{"config", config_file.string()}});
    try {
        // The data directory stays the one opened at start-up (a change of
        // paths.data waits for a restart): connectors keep their key files.
        auto runtime = load_runtime(config_file, services, applied.data_dir);
        // Read again even from the same paths: a renewed certificate is
        // served to the connections that open from now on.
        const auto& next_tls = runtime->config().server.tls;
        auto context = tls != nullptr && next_tls ? make_tls_context(*next_tls) : nullptr;
        apply_or_warn(applied, runtime->config());
        auto previous = slot.exchange(std::make_shared<const ServingState>(runtime, metrics));
        if (context) {
            tls->store(std::move(context));
        }
        activate_connectors(*runtime);
        metrics.config_reloaded(true);
        log::info("config_reloaded", {{"connectors", runtime->connectors().size()},
                                      {"clients", runtime->config().clients.size()}});
        return true;
    } catch (const ConfigErrors& errors) {
        // ConfigErrors never quote values, secrets included: they may be logged.
        for (const auto& error : errors.errors()) {
            log::error("config_error", {{"file", error.file()},
                                        {"line", error.position().line},
                                        {"column", error.position().column},
                                        {"message", error.message()}});
        }
        metrics.config_reloaded(false);
        log::error("reload_failed", {{"errors", errors.errors().size()}});
    } catch (...) {
        // Other exceptions (from a plugin, say) may quote anything: type only.
        metrics.config_reloaded(false);
        log::error("reload_failed", {{"type", current_exception_type()}});
    }
    return false;
}

ReloadThread::ReloadThread(std::function<void()> job)
    : job_(std::move(job)), thread_([this] { loop(); }) {}

ReloadThread::~ReloadThread() {
    {
        const std::scoped_lock lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void ReloadThread::request() {
    {
        const std::scoped_lock lock(mutex_);
        pending_ = true;
    }
    wake_.notify_one();
}

void ReloadThread::loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return pending_ || stopping_; });
        if (stopping_) {
            return;
        }
        pending_ = false;
        lock.unlock();
        job_();
        lock.lock();
    }
}

}  // namespace relais::server
