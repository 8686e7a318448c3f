#pragma once
/// @file
/// Just enough JOSE for OpenID Connect clients: JSON Web Key sets (RFC 7517)
/// and compact JSON Web Signatures (RFC 7515) signed RS256, ES256 or HS256
/// (RFC 7518), and the checks an ID token's claims must pass (OpenID
/// Connect Core 1.0, 3.1.3.7). Signatures are verified with OpenSSL; "none"
/// and every other algorithm are refused.

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace relais::franceconnect {

/// The signature algorithms relais accepts.
enum class Algorithm { rs256, es256, hs256 };

/// "RS256" → Algorithm::rs256…; nullopt for any other name ("none" included).
std::optional<Algorithm> algorithm_named(std::string_view name) noexcept;

/// The public keys of a provider, parsed once from its JWKS document and
/// shared by every thread (immutable).
class KeySet {
public:
    /// Parses `jwks_json` ({"keys":[…]}): RSA keys (kty RSA, n, e) and EC
    /// keys on P-256 (kty EC, crv P-256, x, y) become OpenSSL keys; keys of
    /// another type, curve or `use` than "sig" are skipped. nullopt when the
    /// document is not a JWKS (malformed JSON, no "keys" array, a key with
    /// broken base64url).
    static std::optional<KeySet> parse(std::string_view jwks_json);

    KeySet(KeySet&&) noexcept;
    KeySet& operator=(KeySet&&) noexcept;
    ~KeySet();

    /// Number of usable keys.
    std::size_t size() const noexcept;

    struct Impl;
    /// The parsed keys, for verify_jws.
    const Impl* impl() const noexcept { return impl_.get(); }

private:
    explicit KeySet(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

/// Why a token was refused. Words for logs: never the token or its claims.
enum class TokenError {
    malformed,              ///< not three base64url parts of JSON, or too large
    algorithm_not_allowed,  ///< header alg not in the allowed list (or "none")
    unknown_key,            ///< no key for the header's kid (or no single candidate)
    bad_signature,
    wrong_issuer,
    wrong_audience,  ///< aud lacks client_id, or azp is not client_id when several audiences
    expired,         ///< exp in the past (beyond the leeway)
    issued_in_future,
    wrong_nonce,
    missing_claim,  ///< iss, aud, exp, iat, sub or nonce absent or of the wrong type
};

/// Log-safe words for `error` ("bad signature"...).
std::string_view describe(TokenError error) noexcept;

/// Verifies a compact JWS and returns its payload (JSON text, not yet
/// parsed), or why it was refused. RS256 and ES256 use the key of `keys`
/// whose kid matches the header's (without a kid: the only key of the
/// right type); HS256 uses `hmac_secret` (the client secret). Tokens over
/// 64 KiB are malformed.
std::variant<std::string, TokenError> verify_jws(std::string_view token, const KeySet& keys,
                                                 std::string_view hmac_secret,
                                                 std::span<const Algorithm> allowed);

/// What an ID token must say.
struct ExpectedClaims {
    std::string issuer;               ///< the provider's issuer, exactly
    std::string client_id;            ///< must be in aud (and be azp when aud has several)
    std::string nonce;                ///< the nonce relais sent for this login
    std::chrono::seconds leeway{60};  ///< clock skew tolerated on exp and iat
};

/// Checks the claims of a verified ID token payload at `now`: iss, aud
/// (and azp), exp, iat, nonce, and that sub is present. nullopt when they
/// pass.
std::optional<TokenError> check_id_token(std::string_view payload_json,
                                         const ExpectedClaims& expected,
                                         std::chrono::system_clock::time_point now);

}  // namespace relais::franceconnect
