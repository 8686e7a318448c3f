#pragma once
/// @file
/// SOAP answers as HTTP responses: faults —
/// relais's own and the REST envelope's failures turned into faults, with
/// the same HTTP status and error class (docs/soap-service.md#faults).

#include <string_view>
#include <vector>

#include "core/http_types.hpp"
#include "soap/soap_message.hpp"

namespace relais::soap {

/// The version a caller speaks, from its Content-Type: 1.2 for
/// `application/soap+xml`, else 1.1. For answering before the envelope is read.
SoapVersion version_of(const std::vector<Header>& headers) noexcept;

/// A fault of class `error` with `description` (never a request value), with
/// the class's HTTP status.
HttpResponse fault_response(SoapVersion version, ErrorClass error, std::string_view description);

/// A failure in the REST envelope (`{"err":1,"err_class":…,"err_desc":…}`)
/// as a fault with the same class, description and HTTP status; any other
/// response is returned as it is.
HttpResponse as_fault(HttpResponse response, SoapVersion version);

}  // namespace relais::soap
