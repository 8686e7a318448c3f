#include "franceconnect/jwt.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <vector>

#include "core/json.hpp"

namespace relais::franceconnect {

namespace {

template <auto release>
struct Release {
    template <typename T>
    void operator()(T* pointer) const noexcept {
        release(pointer);
    }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, Release<&EVP_PKEY_free>>;
using PkeyContextPtr = std::unique_ptr<EVP_PKEY_CTX, Release<&EVP_PKEY_CTX_free>>;
using DigestContextPtr = std::unique_ptr<EVP_MD_CTX, Release<&EVP_MD_CTX_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Release<&BN_free>>;
using ParamBuilderPtr = std::unique_ptr<OSSL_PARAM_BLD, Release<&OSSL_PARAM_BLD_free>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, Release<&OSSL_PARAM_free>>;
using EcdsaSignaturePtr = std::unique_ptr<ECDSA_SIG, Release<&ECDSA_SIG_free>>;

constexpr std::size_t max_token_size = 64 * 1024;
// A provider publishes a handful of keys; a bigger document is not a JWKS
// relais should spend time on.
constexpr std::size_t max_jwks_size = 1024 * 1024;
// RFC 7518 (3.3) requires 2048 bits at least; above 8192, verifying costs
// more than any provider would ask of its clients.
constexpr int min_rsa_bits = 2048;
constexpr int max_rsa_bits = 8192;
constexpr int max_rsa_exponent_bits = 64;
constexpr std::size_t p256_coordinate_size = 32;
constexpr std::size_t sha256_size = 32;

/// Keeps OpenSSL's per-thread error queue as it was: a failed verification
/// must not leave errors that a TLS read on the same thread would take for
/// its own.
struct OpensslErrorScope {
    OpensslErrorScope() { ERR_set_mark(); }
    OpensslErrorScope(const OpensslErrorScope&) = delete;
    OpensslErrorScope& operator=(const OpensslErrorScope&) = delete;
    ~OpensslErrorScope() { ERR_pop_to_mark(); }
};

const unsigned char* bytes_of(std::string_view text) noexcept {
    return reinterpret_cast<const unsigned char*>(text.data());
}

int base64url_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

/// Unpadded base64url (RFC 7515, 2). Unused trailing bits must be zero, so
/// that a token has a single spelling.
std::optional<std::string> base64url_decode(std::string_view text) {
    if (text.size() % 4 == 1) {
        return std::nullopt;
    }
    std::string decoded;
    decoded.reserve(text.size() / 4 * 3 + 2);
    std::uint32_t bits = 0;
    int pending = 0;
    for (char c : text) {
        const int value = base64url_value(c);
        if (value < 0) {
            return std::nullopt;
        }
        bits = (bits << 6) | static_cast<std::uint32_t>(value);
        pending += 6;
        if (pending >= 8) {
            pending -= 8;
            decoded.push_back(static_cast<char>((bits >> pending) & 0xFFU));
        }
    }
    if ((bits & ((1U << pending) - 1U)) != 0) {
        return std::nullopt;
    }
    return decoded;
}

const rapidjson::Value* member(const rapidjson::Value& object, std::string_view name) {
    const auto found =
        object.FindMember(rapidjson::Value(rapidjson::StringRef(name.data(), name.size())));
    return found == object.MemberEnd() ? nullptr : &found->value;
}

std::string_view text_of(const rapidjson::Value& value) {
    return {value.GetString(), value.GetStringLength()};
}

enum class KeyType { rsa, ec };

struct Jwk {
    std::optional<std::string> kid;
    KeyType type;
    /// The key's own "alg": when present, the key serves no other algorithm.
    std::optional<Algorithm> algorithm;
    PkeyPtr key;
};

/// A public key of `type` ("RSA", "EC") from `params`, checked by OpenSSL
/// (an EC point must lie on the curve); null when OpenSSL refuses it.
PkeyPtr public_key(const char* type, const OSSL_PARAM* params) {
    const PkeyContextPtr context(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY* raw = nullptr;
    if (!context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
        EVP_PKEY_fromdata(context.get(), &raw, EVP_PKEY_PUBLIC_KEY,
                          const_cast<OSSL_PARAM*>(params)) != 1) {
        return {};
    }
    PkeyPtr key(raw);
    const PkeyContextPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1) {
        return {};
    }
    return key;
}

PkeyPtr rsa_key(std::string_view modulus, std::string_view exponent) {
    if (modulus.size() > max_rsa_bits / 8 + 1 || exponent.size() > max_rsa_exponent_bits / 8) {
        return {};
    }
    const BignumPtr n(BN_bin2bn(bytes_of(modulus), static_cast<int>(modulus.size()), nullptr));
    const BignumPtr e(BN_bin2bn(bytes_of(exponent), static_cast<int>(exponent.size()), nullptr));
    if (!n || !e || BN_num_bits(n.get()) < min_rsa_bits || BN_num_bits(n.get()) > max_rsa_bits) {
        return {};
    }
    const ParamBuilderPtr builder(OSSL_PARAM_BLD_new());
    if (!builder || OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
        return {};
    }
    const ParamsPtr params(OSSL_PARAM_BLD_to_param(builder.get()));
    return params ? public_key("RSA", params.get()) : PkeyPtr{};
}

PkeyPtr p256_key(std::string_view x, std::string_view y) {
    if (x.size() != p256_coordinate_size || y.size() != p256_coordinate_size) {
        return {};
    }
    // SEC 1 uncompressed point: 0x04 || x || y.
    std::array<unsigned char, 1 + 2 * p256_coordinate_size> point{0x04};
    std::copy(x.begin(), x.end(), point.begin() + 1);
    std::copy(y.begin(), y.end(), point.begin() + 1 + p256_coordinate_size);
    const ParamBuilderPtr builder(OSSL_PARAM_BLD_new());
    if (!builder ||
        OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1",
                                        0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1) {
        return {};
    }
    const ParamsPtr params(OSSL_PARAM_BLD_to_param(builder.get()));
    return params ? public_key("EC", params.get()) : PkeyPtr{};
}

/// The base64url-decoded string member `name` of a key; nullopt when it is
/// absent, not a string or not base64url.
std::optional<std::string> key_bytes(const rapidjson::Value& jwk, std::string_view name) {
    const auto* value = member(jwk, name);
    if (value == nullptr || !value->IsString()) {
        return std::nullopt;
    }
    return base64url_decode(text_of(*value));
}

/// Adds `jwk` to `keys` when relais can use it. False when the key is
/// broken (not an object, no kty, missing or undecodable key material):
/// such a document is not a JWKS.
bool add_key(const rapidjson::Value& jwk, std::vector<Jwk>& keys) {
    if (!jwk.IsObject()) {
        return false;
    }
    const auto* kty = member(jwk, "kty");
    const auto* kid = member(jwk, "kid");
    const auto* use = member(jwk, "use");
    const auto* alg = member(jwk, "alg");
    if (kty == nullptr || !kty->IsString() || (kid != nullptr && !kid->IsString()) ||
        (use != nullptr && !use->IsString()) || (alg != nullptr && !alg->IsString())) {
        return false;
    }
    const auto type = text_of(*kty);
    if ((type != "RSA" && type != "EC") || (use != nullptr && text_of(*use) != "sig")) {
        return true;
    }
    Jwk key{kid ? std::optional<std::string>(text_of(*kid)) : std::nullopt,
            type == "RSA" ? KeyType::rsa : KeyType::ec,
            alg ? algorithm_named(text_of(*alg)) : std::nullopt, nullptr};
    if (alg != nullptr && (!key.algorithm || *key.algorithm == Algorithm::hs256)) {
        return true;
    }
    if (key.type == KeyType::rsa) {
        const auto n = key_bytes(jwk, "n");
        const auto e = key_bytes(jwk, "e");
        if (!n || !e) {
            return false;
        }
        key.key = rsa_key(*n, *e);
    } else {
        const auto* crv = member(jwk, "crv");
        if (crv == nullptr || !crv->IsString()) {
            return false;
        }
        if (text_of(*crv) != "P-256") {
            return true;
        }
        const auto x = key_bytes(jwk, "x");
        const auto y = key_bytes(jwk, "y");
        if (!x || !y) {
            return false;
        }
        key.key = p256_key(*x, *y);
    }
    if (key.key) {
        keys.push_back(std::move(key));
    }
    return true;
}

}  // namespace

struct KeySet::Impl {
    std::vector<Jwk> keys;
};

namespace {

/// The single key that may check a token of `algorithm` naming `kid`;
/// null when there is none or more than one.
EVP_PKEY* key_for(const KeySet& keys, Algorithm algorithm,
                  std::optional<std::string_view> kid) noexcept {
    const auto* impl = keys.impl();
    if (impl == nullptr) {
        return nullptr;
    }
    const auto type = algorithm == Algorithm::rs256 ? KeyType::rsa : KeyType::ec;
    const Jwk* found = nullptr;
    for (const auto& key : impl->keys) {
        if (key.type != type || (key.algorithm && *key.algorithm != algorithm) ||
            (kid && key.kid != kid)) {
            continue;
        }
        if (found != nullptr) {
            return nullptr;
        }
        found = &key;
    }
    return found == nullptr ? nullptr : found->key.get();
}

bool digest_verifies(EVP_PKEY* key, std::string_view signed_part, std::string_view signature) {
    const DigestContextPtr context(EVP_MD_CTX_new());
    return context &&
           EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
           EVP_DigestVerify(context.get(), bytes_of(signature), signature.size(),
                            bytes_of(signed_part), signed_part.size()) == 1;
}

/// JWS carries an ECDSA signature as the fixed-size r || s (RFC 7518,
/// 3.4); OpenSSL verifies the DER SEQUENCE of two INTEGERs.
std::optional<std::string> der_of_p256_signature(std::string_view raw) {
    if (raw.size() != 2 * p256_coordinate_size) {
        return std::nullopt;
    }
    const EcdsaSignaturePtr signature(ECDSA_SIG_new());
    BignumPtr r(BN_bin2bn(bytes_of(raw), p256_coordinate_size, nullptr));
    BignumPtr s(
        BN_bin2bn(bytes_of(raw.substr(p256_coordinate_size)), p256_coordinate_size, nullptr));
    if (!signature || !r || !s || ECDSA_SIG_set0(signature.get(), r.get(), s.get()) != 1) {
        return std::nullopt;
    }
    static_cast<void>(r.release());
    static_cast<void>(s.release());
    const int size = i2d_ECDSA_SIG(signature.get(), nullptr);
    if (size <= 0) {
        return std::nullopt;
    }
    std::string der(static_cast<std::size_t>(size), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    if (i2d_ECDSA_SIG(signature.get(), &out) != size) {
        return std::nullopt;
    }
    return der;
}

bool hmac_verifies(std::string_view secret, std::string_view signed_part,
                   std::string_view signature) {
    if (secret.empty() || secret.size() > INT_MAX || signature.size() != sha256_size) {
        return false;
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned size = 0;
    return HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), bytes_of(signed_part),
                signed_part.size(), mac.data(), &size) != nullptr &&
           size == sha256_size && CRYPTO_memcmp(mac.data(), signature.data(), sha256_size) == 0;
}

/// Parses `encoded` (base64url of a JSON object) into `doc`.
bool decode_json_object(std::string_view encoded, rapidjson::Document& doc) {
    const auto text = base64url_decode(encoded);
    return text && parse_untrusted_object(*text, doc);
}

}  // namespace

std::optional<Algorithm> algorithm_named(std::string_view name) noexcept {
    if (name == "RS256") {
        return Algorithm::rs256;
    }
    if (name == "ES256") {
        return Algorithm::es256;
    }
    if (name == "HS256") {
        return Algorithm::hs256;
    }
    return std::nullopt;
}

std::optional<KeySet> KeySet::parse(std::string_view jwks_json) {
    if (jwks_json.size() > max_jwks_size) {
        return std::nullopt;
    }
    const OpensslErrorScope errors;
    rapidjson::Document doc;
    if (!parse_untrusted_object(jwks_json, doc)) {
        return std::nullopt;
    }
    const auto* listed = member(doc, "keys");
    if (listed == nullptr || !listed->IsArray()) {
        return std::nullopt;
    }
    auto impl = std::make_unique<Impl>();
    for (const auto& jwk : listed->GetArray()) {
        if (!add_key(jwk, impl->keys)) {
            return std::nullopt;
        }
    }
    return KeySet(std::move(impl));
}

KeySet::KeySet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KeySet::KeySet(KeySet&&) noexcept = default;
KeySet& KeySet::operator=(KeySet&&) noexcept = default;
KeySet::~KeySet() = default;

std::size_t KeySet::size() const noexcept {
    return impl_ ? impl_->keys.size() : 0;
}

std::string_view describe(TokenError error) noexcept {
    switch (error) {
        case TokenError::malformed:
            return "malformed token";
        case TokenError::algorithm_not_allowed:
            return "algorithm not allowed";
        case TokenError::unknown_key:
            return "unknown signing key";
        case TokenError::bad_signature:
            return "bad signature";
        case TokenError::wrong_issuer:
            return "wrong issuer";
        case TokenError::wrong_audience:
            return "wrong audience";
        case TokenError::expired:
            return "expired";
        case TokenError::issued_in_future:
            return "issued in the future";
        case TokenError::wrong_nonce:
            return "wrong nonce";
        case TokenError::missing_claim:
            return "missing claim";
    }
    return "invalid token";
}

std::variant<std::string, TokenError> verify_jws(std::string_view token, const KeySet& keys,
                                                 std::string_view hmac_secret,
                                                 std::span<const Algorithm> allowed) {
    if (token.size() > max_token_size) {
        return TokenError::malformed;
    }
    const auto first_dot = token.find('.');
    const auto second_dot = token.find('.', first_dot + 1);
    if (first_dot == std::string_view::npos || second_dot == std::string_view::npos ||
        token.find('.', second_dot + 1) != std::string_view::npos) {
        return TokenError::malformed;
    }
    const auto encoded_header = token.substr(0, first_dot);
    const auto encoded_payload = token.substr(first_dot + 1, second_dot - first_dot - 1);
    const auto signed_part = token.substr(0, second_dot);

    rapidjson::Document header;
    if (!decode_json_object(encoded_header, header)) {
        return TokenError::malformed;
    }
    const auto* alg = member(header, "alg");
    const auto* kid = member(header, "kid");
    if (alg == nullptr || !alg->IsString() || (kid != nullptr && !kid->IsString())) {
        return TokenError::malformed;
    }
    const auto algorithm = algorithm_named(text_of(*alg));
    if (!algorithm || std::find(allowed.begin(), allowed.end(), *algorithm) == allowed.end()) {
        return TokenError::algorithm_not_allowed;
    }
    // "crit" names extensions the verifier must understand (RFC 7515,
    // 4.1.11); relais understands none.
    if (member(header, "crit") != nullptr) {
        return TokenError::malformed;
    }
    const auto signature = base64url_decode(token.substr(second_dot + 1));
    auto payload = base64url_decode(encoded_payload);
    if (!signature || signature->empty() || !payload) {
        return TokenError::malformed;
    }

    const OpensslErrorScope errors;
    bool verified = false;
    if (*algorithm == Algorithm::hs256) {
        verified = hmac_verifies(hmac_secret, signed_part, *signature);
    } else {
        const auto wanted_kid = kid ? std::optional<std::string_view>(text_of(*kid)) : std::nullopt;
        auto* key = key_for(keys, *algorithm, wanted_kid);
        if (key == nullptr) {
            return TokenError::unknown_key;
        }
        if (*algorithm == Algorithm::rs256) {
            verified = digest_verifies(key, signed_part, *signature);
        } else {
            const auto der = der_of_p256_signature(*signature);
            verified = der && digest_verifies(key, signed_part, *der);
        }
    }
    if (!verified) {
        return TokenError::bad_signature;
    }
    rapidjson::Document claims;
    if (!parse_untrusted_object(*payload, claims)) {
        return TokenError::malformed;
    }
    return std::move(*payload);
}

std::optional<TokenError> check_id_token(std::string_view payload_json,
                                         const ExpectedClaims& expected,
                                         std::chrono::system_clock::time_point now) {
    rapidjson::Document claims;
    if (!parse_untrusted_object(payload_json, claims)) {
        return TokenError::malformed;
    }
    const auto* iss = member(claims, "iss");
    const auto* aud = member(claims, "aud");
    const auto* azp = member(claims, "azp");
    const auto* exp = member(claims, "exp");
    const auto* iat = member(claims, "iat");
    const auto* nbf = member(claims, "nbf");
    const auto* nonce = member(claims, "nonce");
    const auto* sub = member(claims, "sub");
    const auto is_string = [](const rapidjson::Value* value) {
        return value != nullptr && value->IsString();
    };
    const auto is_number = [](const rapidjson::Value* value) {
        return value != nullptr && value->IsNumber();
    };
    bool audiences_are_strings = is_string(aud);
    if (aud != nullptr && aud->IsArray()) {
        audiences_are_strings = !aud->Empty() && std::all_of(aud->Begin(), aud->End(),
                                                             [](const rapidjson::Value& value) {
                                                                 return value.IsString();
                                                             });
    }
    if (!is_string(iss) || !audiences_are_strings || (azp != nullptr && !azp->IsString()) ||
        !is_number(exp) || !is_number(iat) || (nbf != nullptr && !nbf->IsNumber()) ||
        !is_string(nonce) || !is_string(sub) || sub->GetStringLength() == 0) {
        return TokenError::missing_claim;
    }

    if (text_of(*iss) != expected.issuer) {
        return TokenError::wrong_issuer;
    }
    const auto is_client = [&expected](const rapidjson::Value& value) {
        return text_of(value) == expected.client_id;
    };
    const bool listed =
        aud->IsString() ? is_client(*aud) : std::any_of(aud->Begin(), aud->End(), is_client);
    const bool several = aud->IsArray() && aud->Size() > 1;
    if (expected.client_id.empty() || !listed || (several && azp == nullptr) ||
        (azp != nullptr && !is_client(*azp))) {
        return TokenError::wrong_audience;
    }
    // NumericDate may carry a fraction (RFC 7519, 2): compare as doubles.
    const auto seconds = [](auto duration) {
        return std::chrono::duration<double>(duration).count();
    };
    const double now_seconds = seconds(now.time_since_epoch());
    const double leeway = seconds(expected.leeway);
    if (now_seconds >= exp->GetDouble() + leeway) {
        return TokenError::expired;
    }
    // A token not valid yet (nbf, optional) is one issued in the future.
    if (iat->GetDouble() > now_seconds + leeway ||
        (nbf != nullptr && nbf->GetDouble() > now_seconds + leeway)) {
        return TokenError::issued_in_future;
    }
    // An empty expected nonce would let a token without a real one pass.
    if (expected.nonce.empty() || text_of(*nonce) != expected.nonce) {
        return TokenError::wrong_nonce;
    }
    return std::nullopt;
}

}  // namespace relais::franceconnect
