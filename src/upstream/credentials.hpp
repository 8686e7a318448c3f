#pragma once
/// @file
/// Encodings shared by the upstream authentication modes.

#include <string>
#include <string_view>

namespace relais::upstream {

/// The value of an `Authorization` header for HTTP Basic (RFC 7617):
/// "Basic " + base64(user ":" password).
std::string basic_authorization(std::string_view user, std::string_view password);

/// `text` encoded as application/x-www-form-urlencoded (RFC 6749 appendix B):
/// ASCII letters, digits and "-._~" stay, space becomes "+", the rest %XX.
std::string form_encode(std::string_view text);

}  // namespace relais::upstream
