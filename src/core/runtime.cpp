#include "core/runtime.hpp"

#include <algorithm>

#include "auth/client_registry.hpp"
#include "config/connector_loader.hpp"
#include "plugin/plugin_loader.hpp"

namespace relais {

namespace {

/// Writes "kind/slug" into `key`, the key of `routes_`.
std::string& route_key(std::string& key, std::string_view kind, std::string_view slug) {
    return key.assign(kind).append(1, '/').append(slug);
}

/// The configuration the client registry checks: grants naming connectors
/// whose file failed are left out, their error is already reported.
RelaisConfig without_grants_to(const RelaisConfig& config, const std::set<std::string>& slugs) {
    RelaisConfig copy = config;
    for (auto& client : copy.clients) {
        std::erase_if(client.grants,
                      [&](const auto& grant) { return slugs.contains(grant.first); });
    }
    return copy;
}

}  // namespace

Runtime::Runtime(RelaisConfig config, std::vector<std::shared_ptr<PluginModule>> modules,
                 std::vector<std::unique_ptr<ConnectorEntry>> connectors,
                 std::unique_ptr<const auth::ClientRegistry> clients)
    : modules_(std::move(modules)),
      config_(std::move(config)),
      connectors_(std::move(connectors)),
      clients_(std::move(clients)) {
    for (const auto& entry : connectors_) {
        std::string key;
        routes_.emplace(route_key(key, entry->kind, entry->slug), entry.get());
    }
}

BodyPolicy Runtime::body_policy(std::string_view kind, std::string_view slug,
                                std::string_view endpoint) const noexcept {
    BodyPolicy policy{config_.server.limits.body_bytes, false};
    const ConnectorEntry* entry = find(kind, slug);
    if (entry == nullptr) {
        return policy;
    }
    const auto endpoints = entry->connector->endpoints();
    const auto found =
        std::find_if(endpoints.begin(), endpoints.end(),
                     [endpoint](const EndpointInfo& e) { return e.name == endpoint; });
    if (found == endpoints.end()) {
        return policy;
    }
    if (found->max_body_bytes != 0) {
        policy.limit = found->max_body_bytes;
    }
    policy.streamed = found->streams_body();
    return policy;
}

Runtime::~Runtime() = default;

const ConnectorEntry* Runtime::find(std::string_view kind, std::string_view slug) const noexcept {
    // Called for every request: reuse one buffer per thread for the key.
    thread_local std::string key;
    const auto it = routes_.find(route_key(key, kind, slug));
    return it == routes_.end() ? nullptr : it->second;
}

std::shared_ptr<const Runtime> load_runtime(const std::filesystem::path& config_file,
                                            ConnectorServices* services,
                                            const std::optional<std::filesystem::path>& data_dir) {
    std::vector<ConfigError> errors;
    std::optional<RelaisConfig> config = read_relais_config(config_file, errors);
    if (!config) {
        throw ConfigErrors(std::move(errors));
    }
    const bool config_valid = errors.empty();
    config::LoadedConnectors loaded = config::load_connectors(*config, errors, services, data_dir);
    // Grants are checked against a relais.yaml that was read whole; with
    // errors in it, they would only add noise.
    std::unique_ptr<const auth::ClientRegistry> clients;
    if (config_valid) {
        try {
            clients = std::make_unique<const auth::ClientRegistry>(
                without_grants_to(*config, loaded.failed_slugs), loaded.connectors);
        } catch (const ConfigErrors& e) {
            errors.insert(errors.end(), e.errors().begin(), e.errors().end());
        }
    }
    if (!errors.empty()) {
        throw ConfigErrors(std::move(errors));
    }
    return std::make_shared<const Runtime>(std::move(*config), std::move(loaded.modules),
                                           std::move(loaded.connectors), std::move(clients));
}

}  // namespace relais
