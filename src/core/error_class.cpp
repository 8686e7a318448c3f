#include "core/error_class.hpp"

namespace relais {

ErrorInfo describe(ErrorClass error) noexcept {
    switch (error) {
        case ErrorClass::bad_request:
            return {400, "bad-request"};
        case ErrorClass::invalid_json:
            return {400, "invalid-json"};
        case ErrorClass::invalid_xml:
            return {400, "invalid-xml"};
        case ErrorClass::unknown_operation:
            return {400, "unknown-operation"};
        case ErrorClass::invalid_body:
            return {400, "invalid-body"};
        case ErrorClass::missing_parameter:
            return {400, "missing-parameter"};
        case ErrorClass::invalid_parameter:
            return {400, "invalid-parameter"};
        case ErrorClass::missing_credentials:
            return {401, "missing-credentials"};
        case ErrorClass::invalid_credentials:
            return {403, "invalid-credentials"};
        case ErrorClass::invalid_signature:
            return {403, "invalid-signature"};
        case ErrorClass::expired_signature:
            return {403, "expired-signature"};
        case ErrorClass::replayed_nonce:
            return {403, "replayed-nonce"};
        case ErrorClass::address_not_allowed:
            return {403, "address-not-allowed"};
        case ErrorClass::not_granted:
            return {403, "not-granted"};
        case ErrorClass::not_found:
            return {404, "not-found"};
        case ErrorClass::unknown_reference:
            return {404, "unknown-reference"};
        case ErrorClass::unknown_status:
            return {400, "unknown-status"};
        case ErrorClass::invalid_state:
            return {400, "invalid-state"};
        case ErrorClass::unknown_code:
            return {404, "unknown-code"};
        case ErrorClass::method_not_allowed:
            return {405, "method-not-allowed"};
        case ErrorClass::request_timeout:
            return {408, "request-timeout"};
        case ErrorClass::payload_too_large:
            return {413, "payload-too-large"};
        case ErrorClass::headers_too_large:
            return {431, "headers-too-large"};
        case ErrorClass::internal_error:
            return {500, "internal-error"};
        case ErrorClass::upstream_unreachable:
            return {502, "upstream-unreachable"};
        case ErrorClass::upstream_error:
            return {502, "upstream-error"};
        case ErrorClass::upstream_invalid_response:
            return {502, "upstream-invalid-response"};
        case ErrorClass::upstream_fault:
            return {502, "upstream-fault"};
        case ErrorClass::too_many_requests:
            return {429, "too-many-requests"};
        case ErrorClass::identity_rejected:
            return {502, "identity-rejected"};
        case ErrorClass::upstream_rate_limited:
            return {503, "upstream-rate-limited"};
        case ErrorClass::overloaded:
            return {503, "overloaded"};
        case ErrorClass::outbox_unavailable:
            return {503, "outbox-unavailable"};
        case ErrorClass::shutting_down:
            return {503, "shutting-down"};
        case ErrorClass::upstream_timeout:
            return {504, "upstream-timeout"};
    }
    return {500, "internal-error"};
}

}  // namespace relais
