#pragma once
/// @file
/// The two SOAP versions, as relais's SOAP service and kind soap's client
/// both write them: envelope namespace and Content-Type.

#include <string_view>

namespace relais::soap {

enum class SoapVersion { soap11, soap12 };

/// `http://schemas.xmlsoap.org/soap/envelope/` (1.1) or
/// `http://www.w3.org/2003/05/soap-envelope` (1.2).
std::string_view envelope_namespace(SoapVersion version) noexcept;

/// `text/xml; charset=utf-8` (1.1) or `application/soap+xml; charset=utf-8` (1.2).
std::string_view content_type(SoapVersion version) noexcept;

}  // namespace relais::soap
