#pragma once
/// @file
/// The `delivery:`, `callbacks:` and `demands:` sections of a connector file, read by
/// the core whatever the kind (see core/delivery_settings.hpp), with the
/// checks that need the whole connector and relais.yaml.

#include <vector>

#include "config/relais_config.hpp"
#include "core/config_error.hpp"
#include "core/runtime.hpp"

namespace relais::config {

struct ConfigDocument;

/// Fills `entry.delivery`, `entry.callbacks`, `entry.demands` and
/// `entry.has_async` from a connector whose endpoints are built. Appends an
/// error (and returns false) when callbacks are declared without an async
/// endpoint or demands, when callbacks or demands are declared without
/// `gru:` in relais.yaml, or when a route the core adds (`deliveries`, the
/// callback and demand endpoints, `soap`) collides with another route.
bool read_delivery_config(const ConfigDocument& doc, const RelaisConfig& config,
                          ConnectorEntry& entry, std::vector<ConfigError>& errors);

}  // namespace relais::config
