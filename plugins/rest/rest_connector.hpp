#pragma once
/// @file
/// The connector of kind `rest` (and of the kinds built on its endpoints,
/// see wire_format.hpp): calls one HTTP upstream per endpoint
/// call, with retries for idempotent methods and an optional cache for
/// endpoints free of personal data. Async endpoints are checked and stored
/// by `prepare_push` and sent by `deliver`, one attempt per call, with the
/// connector's base URL, static headers and credentials of the moment.

#include <memory>

#include "core/connector.hpp"
#include "rest/connector_spec.hpp"

namespace relais::rest {

/// Builds a connector from a connector file valid against rest.schema.json.
/// Throws ConfigError on semantic errors.
std::unique_ptr<Connector> make_rest_connector(const ConnectorSource& source);

/// The connector of a kind built on rest's endpoints (xml, soap): `spec`
/// loaded with `format`, which writes the bodies, reads the answers and
/// finishes each attempt's request.
std::unique_ptr<Connector> make_endpoint_connector(ConnectorSpec spec, std::string slug,
                                                   std::shared_ptr<const WireFormat> format);

}  // namespace relais::rest
