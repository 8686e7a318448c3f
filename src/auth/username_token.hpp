#pragma once
/// @file
/// WS-Security UsernameToken (OASIS Username Token Profile 1.1), the
/// credentials a SOAP caller may carry in its envelope instead of HTTP
/// headers: the pieces ClientRegistry needs to check one (docs/security.md),
/// and kind soap to send one.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace relais::auth {

/// A `wsse:UsernameToken` as read from a SOAP header, values as sent.
struct UsernameToken {
    std::string username;
    /// The password (PasswordText) or Base64(SHA-1(nonce + created +
    /// password)) (PasswordDigest).
    std::string password;
    std::string password_type;  ///< the Type attribute; empty means PasswordText
    std::string nonce;          ///< `wsse:Nonce`, base64; empty when absent
    std::string created;        ///< `wsu:Created`; empty when absent
};

/// The Type URIs of the two kinds of password.
inline constexpr std::string_view password_text_type =
    "http://docs.oasis-open.org/wss/2004/01/"
    "oasis-200401-wss-username-token-profile-1.0#PasswordText";
inline constexpr std::string_view password_digest_type =
    "http://docs.oasis-open.org/wss/2004/01/"
    "oasis-200401-wss-username-token-profile-1.0#PasswordDigest";

/// How far `wsu:Created` may be from now, in the past or in the future;
/// a digest's nonce is remembered that long after its Created.
inline constexpr std::chrono::seconds username_token_window{300};

/// Base64(SHA-1(`nonce` + `created` + `password`)), `nonce` being the
/// decoded bytes. Throws std::runtime_error if OpenSSL fails.
std::string password_digest(std::string_view nonce, std::string_view created,
                            std::string_view password);

/// An xsd:dateTime as WS-Security clients write `wsu:Created`:
/// `YYYY-MM-DDThh:mm:ss`, an optional fraction of a second, then `Z` or a
/// `+hh:mm`/`-hh:mm` offset. nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> parse_created(std::string_view text) noexcept;

}  // namespace relais::auth
