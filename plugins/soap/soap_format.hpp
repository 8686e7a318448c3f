#pragma once
/// @file
/// The wire format of kind soap: kind rest's endpoints whose upstream
/// request is a SOAP envelope (1.1 or 1.2) around an XML template, posted
/// with its SOAPAction, optionally authenticated with a WS-Security
/// UsernameToken; whose answer is read hardened, its fault (if any) turned
/// into the error envelope, its Body mapped with XPath.

#include <memory>
#include <optional>

#include "core/connector.hpp"
#include "rest/wire_format.hpp"
#include "soap/soap_envelope.hpp"
#include "soap/ws_security.hpp"
#include "xml/xml_document.hpp"

namespace relais::soap {

/// The connector's `soap:` block.
struct SoapSettings {
    SoapVersion version = SoapVersion::soap11;
    std::optional<UsernameToken> ws_security;
};

/// Reads `soap:` (defaults without it). Throws ConfigError at the line of a
/// secret that holds a control character.
SoapSettings load_soap_settings(const ConnectorSource& source);

/// The connector's namespaces: `namespaces:` and the envelope's, as `soap`.
xml::NamespaceMap load_soap_namespaces(const ConnectorSource& source, SoapVersion version);

std::shared_ptr<const rest::WireFormat> make_soap_format(SoapSettings settings,
                                                         xml::NamespaceMap namespaces);

}  // namespace relais::soap
