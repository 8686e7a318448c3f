#pragma once
/// @file
/// The connector of kind `base-adresse`: Passerelle's address and
/// reference-data endpoints backed by the BAN geocoder and API Geo.
/// Address searches (`search`, `reverse`, `addresses`) are personal: never
/// cached, never logged with values. Reference data (`cities`,
/// `departments`, `regions`, `streets`) is cached with a TTL, served stale
/// while it is refreshed in the background or while its upstream is down.

#include <memory>

#include "core/connector.hpp"

namespace relais::base_adresse {

/// Builds a connector from a file valid against base-adresse.schema.json.
/// Throws ConfigError on semantic errors.
std::unique_ptr<Connector> make_base_adresse_connector(const ConnectorSource& source);

}  // namespace relais::base_adresse
