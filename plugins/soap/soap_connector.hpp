#pragma once
/// @file
/// The connector of kind `soap`: each endpoint is one operation of a SOAP
/// business application (see soap_format.hpp), with kind rest's
/// parameters, templates, retries and async pushes.

#include <memory>

#include "core/connector.hpp"

namespace relais::soap {

/// Builds a connector from a connector file valid against soap.schema.json.
/// Throws ConfigError on semantic errors.
std::unique_ptr<Connector> make_soap_connector(const ConnectorSource& source);

}  // namespace relais::soap
