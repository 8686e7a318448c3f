#pragma once
/// @file
/// The WSDL relais serves at /{kind}/{slug}/soap?wsdl: schemas/relais.wsdl
/// (compiled into the binary) with the address of its two ports set to
/// that URL (docs/soap-service.md#the-wsdl).

#include <optional>
#include <string>
#include <string_view>

namespace relais::soap {

/// Whether `host` may be a Host header relais builds URLs from: a name
/// (letters, digits, '-' and '.'), an IPv4 address or a bracketed IPv6
/// address, then optionally ':' and a port of 1 to 5 digits up to 65535.
bool is_host_header(std::string_view host) noexcept;

/// Where a connector's SOAP service answers: `public_url` (server.public_url,
/// ending with '/') followed by `{kind}/{slug}/soap`, or without it
/// `{scheme}://{host}/{kind}/{slug}/soap`. nullopt when it must be built
/// from `host` and `host` is absent (null) or not is_host_header.
std::optional<std::string> service_address(std::string_view public_url, std::string_view scheme,
                                           const std::string* host, std::string_view kind,
                                           std::string_view slug);

/// schemas/relais.wsdl with `address` (XML-escaped) as the location of
/// both ports (SOAP 1.1 and 1.2).
std::string wsdl_document(std::string_view address);

}  // namespace relais::soap
