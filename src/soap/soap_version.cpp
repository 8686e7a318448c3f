#include "soap/soap_version.hpp"

namespace relais::soap {

std::string_view envelope_namespace(SoapVersion version) noexcept {
    return version == SoapVersion::soap12 ? "http://www.w3.org/2003/05/soap-envelope"
                                          : "http://schemas.xmlsoap.org/soap/envelope/";
}

std::string_view content_type(SoapVersion version) noexcept {
    return version == SoapVersion::soap12 ? "application/soap+xml; charset=utf-8"
                                          : "text/xml; charset=utf-8";
}

}  // namespace relais::soap
