#pragma once
/// @file
/// Everything built from one configuration: clients, connectors and the
/// plugin modules behind them. A Runtime is immutable; SIGHUP builds a new
/// one and swaps it in, while requests in flight finish on the old one.

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/relais_config.hpp"
#include "core/connector.hpp"
#include "core/delivery_settings.hpp"

namespace relais {

namespace auth {
class ClientRegistry;
}
class PluginModule;

/// A connector as routed by the core.
struct ConnectorEntry {
    std::string kind;
    std::string slug;
    std::string family;
    std::string description;
    std::string file;  ///< YAML it came from
    std::shared_ptr<const Connector> connector;
    /// Route name -> index: below `connector->endpoints().size()` the
    /// connector's endpoints, from there on `core_routes`.
    std::unordered_map<std::string, std::size_t> endpoint_index;
    /// Routes the core adds (see docs/delivery.md): `deliveries` on
    /// connectors with async endpoints, then the `callbacks` endpoint, the
    /// `demands` endpoint and `soap` (docs/soap-service.md) on connectors
    /// that declare either.
    std::vector<std::string> core_routes;
    /// At most this many requests of this connector run at once; beyond,
    /// 503 `overloaded`. From the connector's `limits.concurrency`. The
    /// server counts requests per slug across reloads.
    unsigned max_concurrency = 64;
    /// Retries of the async endpoints (`delivery:`).
    DeliveryPolicy delivery;
    /// Status reports of the business application (`callbacks:`), if declared.
    std::optional<CallbackSpec> callbacks;
    /// Demands the business application opens in the GRU core (`demands:`),
    /// if declared.
    std::optional<DemandSpec> demands;
    /// True when an endpoint is async: GET /{kind}/{slug}/deliveries/{id} exists.
    bool has_async = false;
};

/// How the server reads the body of a route's calls.
struct BodyPolicy {
    std::size_t limit = 0;  ///< bytes; beyond: 413
    bool streamed = false;  ///< EndpointInfo::streamed_body
};

class Runtime {
public:
    Runtime(RelaisConfig config, std::vector<std::shared_ptr<PluginModule>> modules,
            std::vector<std::unique_ptr<ConnectorEntry>> connectors,
            std::unique_ptr<const auth::ClientRegistry> clients);
    ~Runtime();

    const RelaisConfig& config() const noexcept { return config_; }
    /// The connector routed at /{kind}/{slug}/, or nullptr.
    const ConnectorEntry* find(std::string_view kind, std::string_view slug) const noexcept;
    const std::vector<std::unique_ptr<ConnectorEntry>>& connectors() const noexcept {
        return connectors_;
    }
    const auth::ClientRegistry& clients() const noexcept { return *clients_; }
    /// How the body of a call to `kind/slug/endpoint` is read: its limit
    /// (the server's for a route that does not exist) and whether the
    /// endpoint takes it as it arrives.
    BodyPolicy body_policy(std::string_view kind, std::string_view slug,
                           std::string_view endpoint) const noexcept;

private:
    // Declared first so that modules are unloaded after the connectors they built.
    std::vector<std::shared_ptr<PluginModule>> modules_;
    RelaisConfig config_;
    std::vector<std::unique_ptr<ConnectorEntry>> connectors_;
    std::unordered_map<std::string, const ConnectorEntry*> routes_;  ///< "kind/slug"
    std::unique_ptr<const auth::ClientRegistry> clients_;
};

/// Loads relais.yaml, every connector it points to and the plugins they
/// need, validating everything. Connectors are built with `services`
/// (ConnectorSource::services), which must outlive them; null when only
/// validating. They are given `data_dir` when set, else the configuration's
/// `paths.data`: a reload keeps the directory in use until a restart.
/// Throws ConfigErrors listing every problem.
std::shared_ptr<const Runtime> load_runtime(
    const std::filesystem::path& config_file, ConnectorServices* services = nullptr,
    const std::optional<std::filesystem::path>& data_dir = std::nullopt);

}  // namespace relais
