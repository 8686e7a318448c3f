// JWKS parsing, compact JWS verification and ID token claims (franceconnect).
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <array>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "core/url_encoding.hpp"
#include "franceconnect/jwt.hpp"

using namespace relais::franceconnect;
using namespace std::chrono_literals;

namespace {

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

constexpr std::string_view client_secret = "the client secret of relais";

const unsigned char* bytes_of(std::string_view text) {
    return reinterpret_cast<const unsigned char*>(text.data());
}

std::string b64url(std::string_view bytes) {
    auto text = relais::base64_encode({bytes_of(bytes), bytes.size()});
    while (!text.empty() && text.back() == '=') {
        text.pop_back();
    }
    for (char& c : text) {
        c = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    return text;
}

void check(bool ok, const char* what) {
    if (!ok) {
        throw std::runtime_error(what);
    }
}

PkeyPtr rsa_key(unsigned bits) {
    PkeyPtr key(EVP_RSA_gen(bits), EVP_PKEY_free);
    check(key != nullptr, "RSA key generation");
    return key;
}

PkeyPtr p256_key() {
    PkeyPtr key(EVP_EC_gen("P-256"), EVP_PKEY_free);
    check(key != nullptr, "EC key generation");
    return key;
}

/// The big-endian bytes of a key parameter, left-padded to `size` if given.
std::string key_param(EVP_PKEY* key, const char* name, int size = 0) {
    BIGNUM* value = nullptr;
    check(EVP_PKEY_get_bn_param(key, name, &value) == 1, "key parameter");
    std::string out(static_cast<std::size_t>(size ? size : BN_num_bytes(value)), '\0');
    const int written = BN_bn2binpad(value, reinterpret_cast<unsigned char*>(out.data()),
                                     static_cast<int>(out.size()));
    BN_free(value);
    check(written >= 0, "key parameter size");
    return out;
}

std::string kid_member(std::string_view kid) {
    return kid.empty() ? "" : R"("kid":")" + std::string(kid) + "\",";
}

std::string rsa_jwk(EVP_PKEY* key, std::string_view kid, std::string_view extra = "") {
    return "{" + kid_member(kid) + std::string(extra) + R"("kty":"RSA","n":")" +
           b64url(key_param(key, OSSL_PKEY_PARAM_RSA_N)) + R"(","e":")" +
           b64url(key_param(key, OSSL_PKEY_PARAM_RSA_E)) + "\"}";
}

std::string ec_jwk(EVP_PKEY* key, std::string_view kid, std::string_view crv = "P-256") {
    return "{" + kid_member(kid) + R"("kty":"EC","use":"sig","crv":")" + std::string(crv) +
           R"(","x":")" + b64url(key_param(key, OSSL_PKEY_PARAM_EC_PUB_X, 32)) + R"(","y":")" +
           b64url(key_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32)) + "\"}";
}

std::string jwks(std::initializer_list<std::string> keys) {
    std::string out = R"({"keys":[)";
    for (const auto& key : keys) {
        out += (out.back() == '[' ? "" : ",") + key;
    }
    return out + "]}";
}

KeySet key_set(std::initializer_list<std::string> keys) {
    auto parsed = KeySet::parse(jwks(keys));
    check(parsed.has_value(), "JWKS parse");
    return std::move(*parsed);
}

std::string digest_sign(EVP_PKEY* key, std::string_view data) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                    EVP_MD_CTX_free);
    std::size_t size = 0;
    check(EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
              EVP_DigestSign(context.get(), nullptr, &size, bytes_of(data), data.size()) == 1,
          "sign init");
    std::string signature(size, '\0');
    check(EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                         bytes_of(data), data.size()) == 1,
          "sign");
    signature.resize(size);
    return signature;
}

/// An ECDSA signature as JWS spells it: r || s, 32 bytes each.
std::string raw_of_der(std::string_view der) {
    const unsigned char* in = bytes_of(der);
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> signature(
        d2i_ECDSA_SIG(nullptr, &in, static_cast<long>(der.size())), ECDSA_SIG_free);
    check(signature != nullptr, "DER signature");
    std::string raw(64, '\0');
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    check(BN_bn2binpad(ECDSA_SIG_get0_r(signature.get()), out, 32) == 32 &&
              BN_bn2binpad(ECDSA_SIG_get0_s(signature.get()), out + 32, 32) == 32,
          "raw signature");
    return raw;
}

std::string hmac_sha256(std::string_view secret, std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned size = 0;
    check(HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), bytes_of(data),
               data.size(), mac.data(), &size) != nullptr,
          "HMAC");
    return {reinterpret_cast<const char*>(mac.data()), size};
}

std::string public_pem(EVP_PKEY* key) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    check(PEM_write_bio_PUBKEY(bio.get(), key) == 1, "PEM");
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return {data, static_cast<std::size_t>(size)};
}

std::string signing_input(std::string_view header, std::string_view payload) {
    return b64url(header) + "." + b64url(payload);
}

std::string rs256(EVP_PKEY* key, std::string_view header, std::string_view payload) {
    const auto input = signing_input(header, payload);
    return input + "." + b64url(digest_sign(key, input));
}

std::string es256(EVP_PKEY* key, std::string_view header, std::string_view payload) {
    const auto input = signing_input(header, payload);
    return input + "." + b64url(raw_of_der(digest_sign(key, input)));
}

std::string hs256(std::string_view secret, std::string_view header, std::string_view payload) {
    const auto input = signing_input(header, payload);
    return input + "." + b64url(hmac_sha256(secret, input));
}

/// Keys are generated once: RSA generation takes a while.
struct TestKeys {
    PkeyPtr rsa = rsa_key(2048);
    PkeyPtr other_rsa = rsa_key(2048);
    PkeyPtr ec = p256_key();
    PkeyPtr other_ec = p256_key();
};

const TestKeys& keys() {
    static const TestKeys generated;
    return generated;
}

constexpr std::string_view payload = R"({"sub":"abc","iss":"https://fc.example"})";
constexpr std::array all_algorithms{Algorithm::rs256, Algorithm::es256, Algorithm::hs256};
constexpr std::array asymmetric{Algorithm::rs256, Algorithm::es256};

template <typename Result>
std::optional<TokenError> error_of(const Result& result) {
    if (const auto* error = std::get_if<TokenError>(&result)) {
        return *error;
    }
    return std::nullopt;
}

/// The token with its part `index` (0 header, 1 payload, 2 signature)
/// replaced by `part`.
std::string with_part(std::string_view token, std::size_t index, std::string_view part) {
    const auto first = token.find('.');
    const auto second = token.find('.', first + 1);
    std::array<std::string, 3> parts{std::string(token.substr(0, first)),
                                     std::string(token.substr(first + 1, second - first - 1)),
                                     std::string(token.substr(second + 1))};
    parts.at(index) = part;
    return parts[0] + "." + parts[1] + "." + parts[2];
}

}  // namespace

TEST(FranceConnectJwt, NamesOnlyTheThreeAlgorithms) {
    EXPECT_EQ(algorithm_named("RS256"), Algorithm::rs256);
    EXPECT_EQ(algorithm_named("ES256"), Algorithm::es256);
    EXPECT_EQ(algorithm_named("HS256"), Algorithm::hs256);
    EXPECT_EQ(algorithm_named("none"), std::nullopt);
    EXPECT_EQ(algorithm_named("rs256"), std::nullopt);
    EXPECT_EQ(algorithm_named("RS512"), std::nullopt);
    EXPECT_EQ(algorithm_named(""), std::nullopt);
}

TEST(FranceConnectJwt, DescribesEveryError) {
    EXPECT_EQ(describe(TokenError::bad_signature), "bad signature");
    EXPECT_EQ(describe(TokenError::expired), "expired");
    EXPECT_EQ(describe(TokenError::missing_claim), "missing claim");
}

TEST(FranceConnectJwt, ParsesRsaAndP256Keys) {
    const auto set = KeySet::parse(
        jwks({rsa_jwk(keys().rsa.get(), "r", R"("use":"sig",)"), ec_jwk(keys().ec.get(), "e")}));
    ASSERT_TRUE(set);
    EXPECT_EQ(set->size(), 2U);
    EXPECT_EQ(KeySet::parse(R"({"keys":[]})")->size(), 0U);
}

TEST(FranceConnectJwt, SkipsKeysOfOtherTypesCurvesUsesAndAlgorithms) {
    const auto set = KeySet::parse(jwks({
        R"({"kty":"oct","k":"c2VjcmV0"})",
        R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})",
        ec_jwk(keys().ec.get(), "p384", "P-384"),
        rsa_jwk(keys().rsa.get(), "enc", R"("use":"enc",)"),
        rsa_jwk(keys().rsa.get(), "rs512", R"("alg":"RS512",)"),
        rsa_jwk(keys().rsa.get(), "hs", R"("alg":"HS256",)"),
        rsa_jwk(keys().rsa.get(), "kept"),
    }));
    ASSERT_TRUE(set);
    EXPECT_EQ(set->size(), 1U);
}

TEST(FranceConnectJwt, SkipsWeakRsaKeysAndPointsOffTheCurve) {
    const auto weak = rsa_key(1024);
    const std::string zeros = b64url(std::string(32, '\x01'));
    const auto set = KeySet::parse(
        jwks({rsa_jwk(weak.get(), "weak"),
              R"({"kty":"EC","crv":"P-256","x":")" + zeros + R"(","y":")" + zeros + "\"}",
              R"({"kty":"EC","crv":"P-256","x":"AQ","y":"AQ"})"}));
    ASSERT_TRUE(set);
    EXPECT_EQ(set->size(), 0U);
}

TEST(FranceConnectJwt, RefusesDocumentsThatAreNotKeySets) {
    EXPECT_FALSE(KeySet::parse("not json"));
    EXPECT_FALSE(KeySet::parse(R"([])"));
    EXPECT_FALSE(KeySet::parse(R"({"keys":{}})"));
    EXPECT_FALSE(KeySet::parse(R"({"key":[]})"));
    EXPECT_FALSE(KeySet::parse(R"({"keys":[1]})"));
    EXPECT_FALSE(KeySet::parse(R"({"keys":[{"n":"AQAB","e":"AQAB"}]})"));
    EXPECT_FALSE(KeySet::parse(R"({"keys":[{"kty":"RSA","n":"AQ+B","e":"AQAB"}]})"));
    EXPECT_FALSE(KeySet::parse(R"({"keys":[{"kty":"RSA","e":"AQAB"}]})"));
    EXPECT_FALSE(KeySet::parse(R"({"keys":[{"kty":"EC","crv":"P-256","x":"A","y":"AQ"}]})"));
    EXPECT_FALSE(KeySet::parse(R"({"keys":[{"kty":"EC","x":"AQ","y":"AQ"}]})"));
    EXPECT_FALSE(KeySet::parse(R"({"keys":[{"kty":"RSA","kid":1,"n":"AQ","e":"AQ"}]})"));
    EXPECT_FALSE(KeySet::parse(R"({"keys":[]} trailing)"));
    EXPECT_FALSE(KeySet::parse(std::string(1024 * 1024 + 1, ' ')));
}

TEST(FranceConnectJwt, VerifiesRs256) {
    const auto set = key_set({rsa_jwk(keys().rsa.get(), "r1")});
    const auto token = rs256(keys().rsa.get(), R"({"alg":"RS256","kid":"r1"})", payload);
    const auto result = verify_jws(token, set, client_secret, all_algorithms);
    ASSERT_EQ(error_of(result), std::nullopt);
    EXPECT_EQ(std::get<std::string>(result), payload);
}

TEST(FranceConnectJwt, VerifiesEs256) {
    const auto set = key_set({ec_jwk(keys().ec.get(), "e1")});
    const auto token = es256(keys().ec.get(), R"({"alg":"ES256","kid":"e1"})", payload);
    const auto result = verify_jws(token, set, client_secret, all_algorithms);
    ASSERT_EQ(error_of(result), std::nullopt);
    EXPECT_EQ(std::get<std::string>(result), payload);
}

TEST(FranceConnectJwt, VerifiesHs256WithTheClientSecret) {
    const auto set = key_set({});
    const auto token = hs256(client_secret, R"({"alg":"HS256","typ":"JWT"})", payload);
    const auto result = verify_jws(token, set, client_secret, all_algorithms);
    ASSERT_EQ(error_of(result), std::nullopt);
    EXPECT_EQ(std::get<std::string>(result), payload);
    EXPECT_EQ(error_of(verify_jws(token, set, "another secret", all_algorithms)),
              TokenError::bad_signature);
    EXPECT_EQ(error_of(verify_jws(token, set, "", all_algorithms)), TokenError::bad_signature);
}

TEST(FranceConnectJwt, PicksTheKeyNamedByKid) {
    const auto set = key_set({rsa_jwk(keys().rsa.get(), "a"), rsa_jwk(keys().other_rsa.get(), "b"),
                              ec_jwk(keys().ec.get(), "e")});
    const auto by_b = rs256(keys().other_rsa.get(), R"({"alg":"RS256","kid":"b"})", payload);
    EXPECT_EQ(error_of(verify_jws(by_b, set, client_secret, asymmetric)), std::nullopt);
    const auto claims_a = rs256(keys().other_rsa.get(), R"({"alg":"RS256","kid":"a"})", payload);
    EXPECT_EQ(error_of(verify_jws(claims_a, set, client_secret, asymmetric)),
              TokenError::bad_signature);
    const auto unknown = rs256(keys().rsa.get(), R"({"alg":"RS256","kid":"c"})", payload);
    EXPECT_EQ(error_of(verify_jws(unknown, set, client_secret, asymmetric)),
              TokenError::unknown_key);
    // The kid of an EC key does not make it an RSA one.
    const auto wrong_type = rs256(keys().rsa.get(), R"({"alg":"RS256","kid":"e"})", payload);
    EXPECT_EQ(error_of(verify_jws(wrong_type, set, client_secret, asymmetric)),
              TokenError::unknown_key);
    // Two RSA keys and no kid: no single candidate.
    const auto no_kid = rs256(keys().rsa.get(), R"({"alg":"RS256"})", payload);
    EXPECT_EQ(error_of(verify_jws(no_kid, set, client_secret, asymmetric)),
              TokenError::unknown_key);
}

TEST(FranceConnectJwt, WithoutKidUsesTheOnlyKeyOfTheRightType) {
    const auto set = key_set({rsa_jwk(keys().rsa.get(), "a"), ec_jwk(keys().ec.get(), "")});
    const auto by_rsa = rs256(keys().rsa.get(), R"({"alg":"RS256"})", payload);
    EXPECT_EQ(error_of(verify_jws(by_rsa, set, client_secret, asymmetric)), std::nullopt);
    const auto by_ec = es256(keys().ec.get(), R"({"alg":"ES256"})", payload);
    EXPECT_EQ(error_of(verify_jws(by_ec, set, client_secret, asymmetric)), std::nullopt);
    // A key without kid does not answer a token that names one.
    const auto named = es256(keys().ec.get(), R"({"alg":"ES256","kid":"x"})", payload);
    EXPECT_EQ(error_of(verify_jws(named, set, client_secret, asymmetric)), TokenError::unknown_key);
}

TEST(FranceConnectJwt, RefusesTokensSignedWithAnotherKey) {
    const auto set = key_set({rsa_jwk(keys().rsa.get(), "r"), ec_jwk(keys().ec.get(), "e")});
    const auto rsa = rs256(keys().other_rsa.get(), R"({"alg":"RS256","kid":"r"})", payload);
    EXPECT_EQ(error_of(verify_jws(rsa, set, client_secret, asymmetric)), TokenError::bad_signature);
    const auto ec = es256(keys().other_ec.get(), R"({"alg":"ES256","kid":"e"})", payload);
    EXPECT_EQ(error_of(verify_jws(ec, set, client_secret, asymmetric)), TokenError::bad_signature);
    const auto empty = key_set({});
    EXPECT_EQ(error_of(verify_jws(rsa, empty, client_secret, asymmetric)), TokenError::unknown_key);
    // OpenSSL's per-thread queue is left as found, for the TLS code that shares the thread.
    EXPECT_EQ(ERR_peek_error(), 0UL);
}

TEST(FranceConnectJwt, HonoursTheAlgorithmOfAKey) {
    const auto set = key_set({rsa_jwk(keys().rsa.get(), "r", R"("alg":"RS256",)")});
    const auto token = rs256(keys().rsa.get(), R"({"alg":"RS256","kid":"r"})", payload);
    EXPECT_EQ(error_of(verify_jws(token, set, client_secret, asymmetric)), std::nullopt);
    const auto mismatched = key_set({rsa_jwk(keys().rsa.get(), "r", R"("alg":"ES256",)")});
    EXPECT_EQ(error_of(verify_jws(token, mismatched, client_secret, asymmetric)),
              TokenError::unknown_key);
}

TEST(FranceConnectJwt, RefusesTamperedTokens) {
    const auto set = key_set({rsa_jwk(keys().rsa.get(), "r"), ec_jwk(keys().ec.get(), "e")});
    struct Case {
        std::string token;
        std::string_view other_header;
    };
    const std::array cases{
        Case{rs256(keys().rsa.get(), R"({"alg":"RS256","kid":"r"})", payload),
             R"({"alg":"RS256","kid":"r","x":1})"},
        Case{es256(keys().ec.get(), R"({"alg":"ES256","kid":"e"})", payload),
             R"({"alg":"ES256","kid":"e","x":1})"},
        Case{hs256(client_secret, R"({"alg":"HS256"})", payload), R"({"alg":"HS256","x":1})"}};
    for (const auto& [token, other_header] : cases) {
        const auto verdict = [&set](std::string_view tampered) {
            return error_of(verify_jws(tampered, set, client_secret, all_algorithms));
        };
        ASSERT_EQ(verdict(token), std::nullopt) << token;
        EXPECT_EQ(verdict(with_part(token, 1, b64url(R"({"sub":"someone else"})"))),
                  TokenError::bad_signature);
        EXPECT_EQ(verdict(with_part(token, 0, b64url(other_header))), TokenError::bad_signature);
        auto signature = token.substr(token.rfind('.') + 1);
        signature[4] = signature[4] == 'A' ? 'B' : 'A';
        EXPECT_EQ(verdict(with_part(token, 2, signature)), TokenError::bad_signature);
    }
}

TEST(FranceConnectJwt, RefusesEs256SignaturesNotInJoseForm) {
    const auto set = key_set({ec_jwk(keys().ec.get(), "e")});
    const auto input = signing_input(R"({"alg":"ES256","kid":"e"})", payload);
    const auto der = digest_sign(keys().ec.get(), input);
    EXPECT_EQ(error_of(verify_jws(input + "." + b64url(der), set, client_secret, asymmetric)),
              TokenError::bad_signature);
    EXPECT_EQ(error_of(verify_jws(input + "." + b64url(std::string(64, '\0')), set, client_secret,
                                  asymmetric)),
              TokenError::bad_signature);
}

TEST(FranceConnectJwt, RefusesAlgorithmsNotAllowed) {
    const auto set = key_set({rsa_jwk(keys().rsa.get(), "r")});
    const auto none = b64url(R"({"alg":"none"})") + "." + b64url(payload) + ".";
    EXPECT_EQ(error_of(verify_jws(none, set, client_secret, all_algorithms)),
              TokenError::algorithm_not_allowed);
    const auto none_signed = with_part(none, 2, b64url("x"));
    EXPECT_EQ(error_of(verify_jws(none_signed, set, client_secret, all_algorithms)),
              TokenError::algorithm_not_allowed);
    const auto hs = hs256(client_secret, R"({"alg":"HS256"})", payload);
    EXPECT_EQ(error_of(verify_jws(hs, set, client_secret, asymmetric)),
              TokenError::algorithm_not_allowed);
    const auto rs = rs256(keys().rsa.get(), R"({"alg":"RS256","kid":"r"})", payload);
    constexpr std::array only_es256{Algorithm::es256};
    EXPECT_EQ(error_of(verify_jws(rs, set, client_secret, only_es256)),
              TokenError::algorithm_not_allowed);
    EXPECT_EQ(error_of(verify_jws(rs, set, client_secret, {})), TokenError::algorithm_not_allowed);
    const auto rs512 = with_part(rs, 0, b64url(R"({"alg":"RS512","kid":"r"})"));
    EXPECT_EQ(error_of(verify_jws(rs512, set, client_secret, all_algorithms)),
              TokenError::algorithm_not_allowed);
}

TEST(FranceConnectJwt, RefusesTheRsaPublicKeyUsedAsHmacSecret) {
    const auto set = key_set({rsa_jwk(keys().rsa.get(), "r")});
    const auto pem = public_pem(keys().rsa.get());
    const auto forged = hs256(pem, R"({"alg":"HS256","kid":"r"})", payload);
    EXPECT_EQ(error_of(verify_jws(forged, set, client_secret, asymmetric)),
              TokenError::algorithm_not_allowed);
    EXPECT_EQ(error_of(verify_jws(forged, set, client_secret, all_algorithms)),
              TokenError::bad_signature);
    const auto raw_modulus = hs256(key_param(keys().rsa.get(), OSSL_PKEY_PARAM_RSA_N),
                                   R"({"alg":"HS256","kid":"r"})", payload);
    EXPECT_EQ(error_of(verify_jws(raw_modulus, set, client_secret, all_algorithms)),
              TokenError::bad_signature);
}

TEST(FranceConnectJwt, RefusesMalformedTokens) {
    const auto set = key_set({rsa_jwk(keys().rsa.get(), "r")});
    const auto good = rs256(keys().rsa.get(), R"({"alg":"RS256","kid":"r"})", payload);
    const auto verdict = [&](std::string_view token) {
        return error_of(verify_jws(token, set, client_secret, all_algorithms));
    };
    ASSERT_EQ(verdict(good), std::nullopt);
    EXPECT_EQ(verdict(""), TokenError::malformed);
    EXPECT_EQ(verdict(good.substr(0, good.rfind('.'))), TokenError::malformed);
    EXPECT_EQ(verdict(good + ".x"), TokenError::malformed);
    EXPECT_EQ(verdict(good + "="), TokenError::malformed);
    EXPECT_EQ(verdict(with_part(good, 2, "")), TokenError::malformed);
    EXPECT_EQ(verdict(with_part(good, 1, "e30+")), TokenError::malformed);
    EXPECT_EQ(verdict(with_part(good, 1, "A")), TokenError::malformed);
    EXPECT_EQ(verdict(" " + good), TokenError::malformed);
    // "e31" would decode to "{}" plus non-zero unused bits.
    EXPECT_EQ(verdict(with_part(good, 1, "e31")), TokenError::malformed);
    EXPECT_EQ(verdict(with_part(good, 0, b64url("not json"))), TokenError::malformed);
    EXPECT_EQ(verdict(with_part(good, 0, b64url(R"(["RS256"])"))), TokenError::malformed);
    EXPECT_EQ(verdict(with_part(good, 0, b64url(R"({"kid":"r"})"))), TokenError::malformed);
    EXPECT_EQ(verdict(with_part(good, 0, b64url(R"({"alg":256})"))), TokenError::malformed);
    EXPECT_EQ(verdict(with_part(good, 0, b64url(R"({"alg":"RS256","kid":7})"))),
              TokenError::malformed);
    EXPECT_EQ(verdict(with_part(good, 0, b64url(R"({"alg":"RS256"} {})"))), TokenError::malformed);
    const auto critical =
        rs256(keys().rsa.get(), R"({"alg":"RS256","kid":"r","crit":["exp"],"exp":1})", payload);
    EXPECT_EQ(verdict(critical), TokenError::malformed);
    // Signed, but not JSON: not a token relais can read.
    const auto signed_text = rs256(keys().rsa.get(), R"({"alg":"RS256","kid":"r"})", "text");
    EXPECT_EQ(verdict(signed_text), TokenError::malformed);
    const auto big = rs256(keys().rsa.get(), R"({"alg":"RS256","kid":"r"})",
                           R"({"sub":")" + std::string(70 * 1024, 'a') + "\"}");
    EXPECT_EQ(verdict(big), TokenError::malformed);
}

namespace {

constexpr std::int64_t issued = 1'700'000'000;
const std::chrono::system_clock::time_point now{std::chrono::seconds(issued + 10)};

using Claims = std::map<std::string, std::string>;

Claims valid_claims() {
    return {{"iss", R"("https://fc.example/api/v2")"},
            {"aud", R"("relais-client")"},
            {"exp", std::to_string(issued + 60)},
            {"iat", std::to_string(issued)},
            {"nonce", R"("n-0S6_WzA2Mj")"},
            {"sub", R"("b6048e95bb134ec5b1d1e1fa69f287172e91722b9354d637a1bcf2ebb0fd2ef5v1")"},
            {"acr", R"("eidas1")"}};
}

ExpectedClaims expected() {
    return {"https://fc.example/api/v2", "relais-client", "n-0S6_WzA2Mj", 60s};
}

std::string json_of(const Claims& claims) {
    std::string out = "{";
    for (const auto& [name, value] : claims) {
        out += (out.size() > 1 ? ",\"" : "\"") + name + "\":" + value;
    }
    return out + "}";
}

std::optional<TokenError> check_with(const std::string& name, const std::string& value) {
    auto claims = valid_claims();
    claims[name] = value;
    return check_id_token(json_of(claims), expected(), now);
}

std::optional<TokenError> check_without(const std::string& name) {
    auto claims = valid_claims();
    claims.erase(name);
    return check_id_token(json_of(claims), expected(), now);
}

}  // namespace

TEST(FranceConnectIdToken, AcceptsValidClaims) {
    EXPECT_EQ(check_id_token(json_of(valid_claims()), expected(), now), std::nullopt);
    EXPECT_EQ(check_with("aud", R"(["relais-client"])"), std::nullopt);
    EXPECT_EQ(check_with("azp", R"("relais-client")"), std::nullopt);
    EXPECT_EQ(check_with("exp", std::to_string(issued + 60) + ".5"), std::nullopt);
}

TEST(FranceConnectIdToken, RefusesAnotherIssuer) {
    EXPECT_EQ(check_with("iss", R"("https://evil.example/api/v2")"), TokenError::wrong_issuer);
    EXPECT_EQ(check_with("iss", R"("https://fc.example/api/v2/")"), TokenError::wrong_issuer);
}

TEST(FranceConnectIdToken, RequiresTheClientInTheAudience) {
    EXPECT_EQ(check_with("aud", R"("another-client")"), TokenError::wrong_audience);
    EXPECT_EQ(check_with("aud", R"(["another-client"])"), TokenError::wrong_audience);
    EXPECT_EQ(check_with("aud", R"(["another-client","third"])"), TokenError::wrong_audience);
    auto claims = valid_claims();
    auto no_client = expected();
    no_client.client_id.clear();
    claims["aud"] = R"("")";
    EXPECT_EQ(check_id_token(json_of(claims), no_client, now), TokenError::wrong_audience);
}

TEST(FranceConnectIdToken, RequiresAzpNamingTheClientWhenSeveralAudiences) {
    auto claims = valid_claims();
    claims["aud"] = R"(["relais-client","another-client"])";
    EXPECT_EQ(check_id_token(json_of(claims), expected(), now), TokenError::wrong_audience);
    claims["azp"] = R"("another-client")";
    EXPECT_EQ(check_id_token(json_of(claims), expected(), now), TokenError::wrong_audience);
    claims["azp"] = R"("relais-client")";
    EXPECT_EQ(check_id_token(json_of(claims), expected(), now), std::nullopt);
    EXPECT_EQ(check_with("azp", R"("another-client")"), TokenError::wrong_audience);
}

TEST(FranceConnectIdToken, RefusesExpiredTokensBeyondTheLeeway) {
    EXPECT_EQ(check_with("exp", std::to_string(issued - 60)), TokenError::expired);
    EXPECT_EQ(check_with("exp", std::to_string(issued - 50)), TokenError::expired);
    EXPECT_EQ(check_with("exp", std::to_string(issued - 49)), std::nullopt);
    EXPECT_EQ(check_with("exp", std::to_string(issued + 5)), std::nullopt);
    auto strict = expected();
    strict.leeway = 0s;
    auto claims = valid_claims();
    claims["exp"] = std::to_string(issued + 10);
    EXPECT_EQ(check_id_token(json_of(claims), strict, now), TokenError::expired);
}

TEST(FranceConnectIdToken, RefusesTokensIssuedInTheFuture) {
    EXPECT_EQ(check_with("iat", std::to_string(issued + 71)), TokenError::issued_in_future);
    EXPECT_EQ(check_with("iat", std::to_string(issued + 70)), std::nullopt);
    EXPECT_EQ(check_with("iat", std::to_string(issued + 30)), std::nullopt);
    // Not valid before (nbf, optional): the same leeway.
    EXPECT_EQ(check_with("nbf", std::to_string(issued + 71)), TokenError::issued_in_future);
    EXPECT_EQ(check_with("nbf", std::to_string(issued + 100000)), TokenError::issued_in_future);
    EXPECT_EQ(check_with("nbf", std::to_string(issued + 70)), std::nullopt);
    EXPECT_EQ(check_with("nbf", std::to_string(issued)), std::nullopt);
    EXPECT_EQ(check_with("nbf", R"("1700000000")"), TokenError::missing_claim);
}

TEST(FranceConnectIdToken, RefusesAnotherNonce) {
    EXPECT_EQ(check_with("nonce", R"("n-0S6_WzA2Mk")"), TokenError::wrong_nonce);
    EXPECT_EQ(check_with("nonce", R"("")"), TokenError::wrong_nonce);
    auto none_expected = expected();
    none_expected.nonce.clear();
    auto claims = valid_claims();
    claims["nonce"] = R"("")";
    EXPECT_EQ(check_id_token(json_of(claims), none_expected, now), TokenError::wrong_nonce);
}

TEST(FranceConnectIdToken, RequiresEveryClaimWithItsType) {
    for (const auto* name : {"iss", "aud", "exp", "iat", "nonce", "sub"}) {
        EXPECT_EQ(check_without(name), TokenError::missing_claim) << name;
        EXPECT_EQ(check_with(name, "null"), TokenError::missing_claim) << name;
    }
    EXPECT_EQ(check_with("sub", R"("")"), TokenError::missing_claim);
    EXPECT_EQ(check_with("sub", "42"), TokenError::missing_claim);
    EXPECT_EQ(check_with("exp", R"("1700000060")"), TokenError::missing_claim);
    EXPECT_EQ(check_with("iat", R"("1700000000")"), TokenError::missing_claim);
    EXPECT_EQ(check_with("iss", R"(["https://fc.example/api/v2"])"), TokenError::missing_claim);
    EXPECT_EQ(check_with("aud", "[]"), TokenError::missing_claim);
    EXPECT_EQ(check_with("aud", R"(["relais-client",1])"), TokenError::missing_claim);
    EXPECT_EQ(check_with("azp", "1"), TokenError::missing_claim);
}

TEST(FranceConnectIdToken, RefusesPayloadsThatAreNotJsonObjects) {
    EXPECT_EQ(check_id_token("not json", expected(), now), TokenError::malformed);
    EXPECT_EQ(check_id_token("[]", expected(), now), TokenError::malformed);
    EXPECT_EQ(check_id_token(json_of(valid_claims()) + "x", expected(), now),
              TokenError::malformed);
}
