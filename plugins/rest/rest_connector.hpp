#pragma once
/// @file
/// The connector of kind `rest`: calls one HTTP JSON upstream per endpoint
/// call, with retries for idempotent methods and an optional cache for
/// endpoints free of personal data. Async endpoints are checked and stored
/// by `prepare_push` and sent by `deliver`, one attempt per call, with the
/// connector's base URL, static headers and credentials of the moment.

#include <memory>

#include "core/connector.hpp"

namespace relais::rest {

/// Builds a connector from a connector file valid against rest.schema.json.
/// Throws ConfigError on semantic errors.
std::unique_ptr<Connector> make_rest_connector(const ConnectorSource& source);

}  // namespace relais::rest
