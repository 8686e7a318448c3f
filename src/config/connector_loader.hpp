#pragma once
/// @file
/// Loading of the connector files of a configuration: every `*.yaml` and
/// `*.yml` of `paths.connectors`, in name order. Each file is checked
/// against connector.schema.json, then against its kind's schema, its
/// secrets are substituted, and its kind's factory builds the connector.

#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/relais_config.hpp"
#include "core/config_error.hpp"
#include "core/runtime.hpp"
#include "plugin/plugin_loader.hpp"

namespace relais::config {

struct LoadedConnectors {
    /// Declared first so that they outlive the connectors they built.
    std::vector<std::shared_ptr<PluginModule>> modules;
    std::vector<std::unique_ptr<ConnectorEntry>> connectors;
    /// Slugs of connector files that were read far enough to know their
    /// slug but failed later: grants naming them are not worth reporting.
    std::set<std::string> failed_slugs;
};

/// Loads every connector file of `config`, building the connectors with
/// `services` (null when only validating) and `data_dir` (ConnectorSource;
/// the configuration's when not given). Appends every error to `errors` and
/// returns the connectors that loaded.
LoadedConnectors load_connectors(const RelaisConfig& config, std::vector<ConfigError>& errors,
                                 const ConnectorServices* services = nullptr,
                                 const std::optional<std::filesystem::path>& data_dir = {});

}  // namespace relais::config
