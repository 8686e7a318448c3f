#pragma once
/// @file
/// WS-Security UsernameToken (OASIS Username Token Profile 1.0): the values
/// both sides of a SOAP exchange compute — relais's SOAP client when it
/// authenticates to a business application, relais's SOAP service when it
/// checks a caller.

#include <chrono>
#include <span>
#include <string>
#include <string_view>

namespace relais::auth {

/// `Type` attribute of a wsse:Password sent in clear.
inline constexpr std::string_view password_text_type =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordText";
/// `Type` attribute of a wsse:Password sent as a digest.
inline constexpr std::string_view password_digest_type =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordDigest";

/// Base64(SHA-1(nonce + created + password)), where `nonce` is the raw
/// bytes of wsse:Nonce (not its base64) and `created` the text of
/// wsu:Created as sent. Throws std::runtime_error if OpenSSL fails.
std::string password_digest(std::span<const unsigned char> nonce, std::string_view created,
                            std::string_view password);

/// `time` as wsu:Created writes it: UTC, `%Y-%m-%dT%H:%M:%SZ`.
std::string created_text(std::chrono::system_clock::time_point time);

}  // namespace relais::auth
