#pragma once
/// @file
/// The wire format of kind xml — XML bodies written from templates, XML
/// answers read with XPath — and the pieces of it kind soap builds on: the
/// connector's `namespaces:` and the `response:` mapping.

#include <rapidjson/fwd.h>

#include <memory>
#include <string>

#include "core/connector.hpp"
#include "rest/wire_format.hpp"
#include "xml/xml_document.hpp"
#include "xml/xpath_mapping.hpp"

namespace relais::xml {

/// Reads the connector's `namespaces:` (prefix -> URI), adding `reserved`
/// (prefixes the kind defines itself, such as soap's envelope). Throws
/// ConfigError at the line of a bad prefix, an empty URI, a URI or prefix
/// given twice, or a reserved prefix redefined.
NamespaceMap load_namespaces(const ConnectorSource& source, const NamespaceMap& reserved = {});

/// Reads an endpoint's `response:` (at `at`; null when absent) into a
/// mapping whose data defaults to `default_data`. Throws ConfigError at the
/// line of a bad expression.
XPathMapping load_xpath_mapping(const ConnectorSource& source, const rapidjson::Value* response,
                                const std::string& at, const std::string& default_data);

/// The format of kind xml: bodies are `application/xml; charset=utf-8`
/// with an XML declaration; answers are mapped from the document node, by
/// default their root element.
std::shared_ptr<const rest::WireFormat> make_xml_format(NamespaceMap namespaces);

/// upstream-invalid-response for an answer `read_untrusted_xml` refused.
rest::CallError unusable_xml(const std::string& reason);

}  // namespace relais::xml
