#pragma once
/// @file
/// The connector of kind `xml`: kind rest's endpoints (parameters,
/// templates, retries, cache, async pushes) speaking XML to the upstream —
/// bodies from XML templates, answers read hardened and mapped with XPath.

#include <memory>

#include "core/connector.hpp"

namespace relais::xml {

/// Builds a connector from a connector file valid against xml.schema.json.
/// Throws ConfigError on semantic errors.
std::unique_ptr<Connector> make_xml_connector(const ConnectorSource& source);

}  // namespace relais::xml
