#pragma once
/// @file
/// The typed form of a `kind: rest` connector file (schemas/rest.schema.json,
/// and the files of the kinds built on it, see wire_format.hpp),
/// built once when the connector is created. Everything that can be checked
/// or resolved without a call is done here: durations, URLs, regular
/// expressions, templates, JSON Pointers, schemas, and the privacy rules
/// (no cache, no error body for endpoints carrying personal data).

#include <vector>

#include "core/connector.hpp"
#include "rest/endpoint.hpp"

namespace relais::rest {

struct ConnectorSpec {
    UpstreamSpec upstream;
    std::vector<EndpointSpec> endpoints;  ///< in the YAML order
};

/// Builds the spec from a document already valid against the kind's
/// schema, with the bodies and answers of `format`. Throws ConfigError at
/// the line of the first semantic error.
ConnectorSpec load_connector_spec(const ConnectorSource& source,
                                  const WireFormat& format = *json_format());

}  // namespace relais::rest
