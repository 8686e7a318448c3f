#pragma once
/// @file
/// The one table of request-path errors: each class has an HTTP status and the
/// `err_class` slug written in the Passerelle envelope. Every failure a client
/// can see goes through this table, so that status and slug never disagree.

#include <string_view>

namespace relais {

/// Request-path error classes. The slug of each is in `describe()`.
enum class ErrorClass : unsigned char {
    bad_request,          ///< 400 `bad-request`: malformed HTTP or URL
    invalid_json,         ///< 400 `invalid-json`: body is not JSON
    invalid_body,         ///< 400 `invalid-body`: body fails its JSON Schema
    missing_parameter,    ///< 400 `missing-parameter`
    invalid_parameter,    ///< 400 `invalid-parameter`: type or pattern mismatch
    missing_credentials,  ///< 401 `missing-credentials`
    invalid_credentials,  ///< 403 `invalid-credentials`: unknown key/user/orig
    invalid_signature,    ///< 403 `invalid-signature`
    expired_signature,    ///< 403 `expired-signature`: timestamp outside 30 s
    replayed_nonce,       ///< 403 `replayed-nonce`
    address_not_allowed,  ///< 403 `address-not-allowed`: outside the CIDR list
    not_granted,          ///< 403 `not-granted`: connector/endpoint not granted
    not_found,            ///< 404 `not-found`: unknown route, connector or endpoint
    unknown_reference,    ///< 404 `unknown-reference`: status report for no known demand
    unknown_status,       ///< 400 `unknown-status`: status not in `callbacks.statuses`
    /// 400 `invalid-state`: an OpenID Connect callback whose state is
    /// unknown, expired or already used
    invalid_state,
    /// 404 `unknown-code`: a one-time code unknown, expired or already redeemed
    unknown_code,
    method_not_allowed,         ///< 405 `method-not-allowed`
    request_timeout,            ///< 408 `request-timeout`: client too slow to send
    payload_too_large,          ///< 413 `payload-too-large`
    headers_too_large,          ///< 431 `headers-too-large`
    internal_error,             ///< 500 `internal-error`
    upstream_unreachable,       ///< 502 `upstream-unreachable`: refused, DNS, TLS
    upstream_error,             ///< 502 `upstream-error`: upstream answered 4xx/5xx
    upstream_invalid_response,  ///< 502 `upstream-invalid-response`: not the JSON expected
    /// 502 `identity-rejected`: an identity provider's answer failed
    /// validation (signature, issuer, audience, expiry, nonce)
    identity_rejected,
    upstream_rate_limited,  ///< 503 `upstream-rate-limited`: over the upstream's rate (ours or its
                            ///< 429)
    overloaded,             ///< 503 `overloaded`: connection or concurrency limit
    shutting_down,          ///< 503 `shutting-down`
    outbox_unavailable,     ///< 503 `outbox-unavailable`: the outbox could not store a message
    upstream_timeout,       ///< 504 `upstream-timeout`
    // Classes added later come last: plugins keep the values they were built with.
    /// 400 `invalid-xml`: a SOAP body that is not a SOAP 1.1 or 1.2 envelope,
    /// carries a DTD, or exceeds the XML reader's limits (depth, length, count)
    invalid_xml,
    /// 400 `unknown-operation`: a SOAP envelope whose body names no operation
    /// of relais's WSDL
    unknown_operation,
    upstream_fault,  ///< 502 `upstream-fault`: the upstream answered a SOAP fault
    /// 429 `too-many-requests`: an address calling browser endpoints faster
    /// than `server.limits.anonymous` allows
    too_many_requests,
};

/// HTTP status and envelope slug of an error class.
struct ErrorInfo {
    unsigned http_status;
    std::string_view slug;
};

/// Looks up the status and slug of `error`.
ErrorInfo describe(ErrorClass error) noexcept;

}  // namespace relais
