#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "auth/publik_signature.hpp"
#include "core/url_encoding.hpp"

namespace relais::auth {
namespace {

using namespace std::chrono_literals;

// Expected values computed independently with Python's hmac, hashlib,
// base64 and urllib.parse (urlencode for the appended parameters, quote for
// the signature), the way w.c.s.'s api_utils.sign_query does.
constexpr std::string_view key = "wcs-secret-key";
constexpr std::string_view nonce = "0123456789abcdef0123456789abcdef";

std::chrono::sys_seconds at(std::string_view timestamp) {
    return *parse_timestamp(timestamp);
}

const std::chrono::sys_seconds signed_at = at("2024-03-01T10:20:30Z");

SignedQuery parse_ok(std::string_view query) {
    auto parsed = parse_signed_query(query);
    if (auto* f = std::get_if<SignatureFailure>(&parsed)) {
        ADD_FAILURE() << "parse failed: " << f->reason;
        return {};
    }
    return std::get<SignedQuery>(parsed);
}

SignatureFailure parse_error(std::string_view query) {
    auto parsed = parse_signed_query(query);
    if (std::holds_alternative<SignedQuery>(parsed)) {
        ADD_FAILURE() << "parse unexpectedly succeeded";
        return {ErrorClass::internal_error, {}};
    }
    return std::get<SignatureFailure>(parsed);
}

TEST(AuthSignature, SignsKnownVectorSha256) {
    EXPECT_EQ(sign_query("orig=wcs.example.org&name=Jean", key, SignatureAlgorithm::sha256,
                         signed_at, nonce),
              "orig=wcs.example.org&name=Jean&algo=sha256&timestamp=2024-03-01T10%3A20%3A30Z"
              "&nonce=0123456789abcdef0123456789abcdef"
              "&signature=TjimTlMn/VlurCQLpga3ikkJUKlP%2BhTNTS6W4lPokgY%3D");
}

TEST(AuthSignature, SignsKnownVectorsOtherAlgorithms) {
    EXPECT_EQ(sign_query("orig=wcs.example.org", key, SignatureAlgorithm::sha1, signed_at, "00ff"),
              "orig=wcs.example.org&algo=sha1&timestamp=2024-03-01T10%3A20%3A30Z&nonce=00ff"
              "&signature=p3dW6v/J3mwdBGtw7Irnei%2BmK5E%3D");
    EXPECT_EQ(
        sign_query("orig=wcs.example.org", key, SignatureAlgorithm::sha512, signed_at, "00ff"),
        "orig=wcs.example.org&algo=sha512&timestamp=2024-03-01T10%3A20%3A30Z&nonce=00ff"
        "&signature=SHTB7Ns2AsRyPmKba0rT5graxiMitTox4XzHlLD4MaW9q8S28DUCN2ouM8uWNLRt%"
        "2BqPR7m5uOZvmBo"
        "oy6mxeMQ%3D%3D");
}

TEST(AuthSignature, SignsEmptyQueryWithoutLeadingAmpersand) {
    EXPECT_EQ(sign_query("", "k", SignatureAlgorithm::sha256, signed_at, "n"),
              "algo=sha256&timestamp=2024-03-01T10%3A20%3A30Z&nonce=n"
              "&signature=BVaMkxBa4V1if3zVt1f7cW6x1c2qnEyrjJhprBwGjXY%3D");
}

TEST(AuthSignature, SignUrlKeepsPathAndFragment) {
    const std::string url = sign_url("https://relais.example/rest/x/search?orig=a&i=5#top", "k",
                                     SignatureAlgorithm::sha256, signed_at, "n");
    EXPECT_EQ(url,
              "https://relais.example/rest/x/search?orig=a&i=5&algo=sha256"
              "&timestamp=2024-03-01T10%3A20%3A30Z&nonce=n"
              "&signature=FTg/Il4%2BSQ21J7Ku2xpCg3PkjWGla6GzfToklKpDSss%3D#top");
    EXPECT_EQ(sign_url("http://h/p", "k", SignatureAlgorithm::sha256, signed_at, "n"),
              "http://h/p?" + sign_query("", "k", SignatureAlgorithm::sha256, signed_at, "n"));
}

TEST(AuthSignature, VerifiesWhatItSigns) {
    const std::string q = sign_query("orig=wcs.example.org&name=Jean", key,
                                     SignatureAlgorithm::sha256, signed_at, nonce);
    const SignedQuery parsed = parse_ok(q);
    EXPECT_EQ(parsed.orig, "wcs.example.org");
    EXPECT_EQ(parsed.nonce, nonce);
    EXPECT_EQ(parsed.timestamp, signed_at);
    EXPECT_EQ(parsed.algorithm, SignatureAlgorithm::sha256);
    EXPECT_EQ(parsed.signed_part, q.substr(0, q.find("&signature=")));
    EXPECT_FALSE(verify_signature(parsed, key, signed_at + 1s));
}

TEST(AuthSignature, VerifiesEveryAlgorithm) {
    for (auto algo :
         {SignatureAlgorithm::sha1, SignatureAlgorithm::sha224, SignatureAlgorithm::sha256,
          SignatureAlgorithm::sha384, SignatureAlgorithm::sha512}) {
        const std::string q = sign_query("orig=o", key, algo, signed_at, nonce);
        EXPECT_FALSE(verify_signature(parse_ok(q), key, signed_at)) << algorithm_name(algo);
    }
}

TEST(AuthSignature, AcceptsSignatureQuotedDifferently) {
    // Same signature with '/' escaped and '=' left raw: both decode the same.
    const std::string q =
        "orig=wcs.example.org&name=Jean&algo=sha256&timestamp=2024-03-01T10%3A20%3A30Z"
        "&nonce=0123456789abcdef0123456789abcdef"
        "&signature=TjimTlMn%2FVlurCQLpga3ikkJUKlP%2BhTNTS6W4lPokgY=";
    EXPECT_FALSE(verify_signature(parse_ok(q), key, signed_at));
}

TEST(AuthSignature, RejectsWrongKey) {
    const std::string q = sign_query("orig=o", key, SignatureAlgorithm::sha256, signed_at, nonce);
    const auto failure = verify_signature(parse_ok(q), "another-key", signed_at);
    ASSERT_TRUE(failure);
    EXPECT_EQ(failure->error, ErrorClass::invalid_signature);
    EXPECT_EQ(failure->reason, "signature mismatch");
}

TEST(AuthSignature, RejectsTamperedQuery) {
    std::string q =
        sign_query("orig=o&amount=10", key, SignatureAlgorithm::sha256, signed_at, nonce);
    q.replace(q.find("amount=10"), 9, "amount=99");
    const auto failure = verify_signature(parse_ok(q), key, signed_at);
    ASSERT_TRUE(failure);
    EXPECT_EQ(failure->error, ErrorClass::invalid_signature);
}

TEST(AuthSignature, RejectsReencodedQuery) {
    // The HMAC covers the bytes as sent: re-encoding ':' breaks it.
    std::string q = sign_query("orig=o", key, SignatureAlgorithm::sha256, signed_at, nonce);
    q.replace(q.find("10%3A20%3A30Z"), 13, "10:20:30Z");
    const auto failure = verify_signature(parse_ok(q), key, signed_at);
    ASSERT_TRUE(failure);
    EXPECT_EQ(failure->reason, "signature mismatch");
}

TEST(AuthSignature, TimestampWindow) {
    const std::string q = sign_query("orig=o", key, SignatureAlgorithm::sha256, signed_at, nonce);
    const SignedQuery parsed = parse_ok(q);
    EXPECT_FALSE(verify_signature(parsed, key, signed_at + 29s));
    EXPECT_FALSE(verify_signature(parsed, key, signed_at - 29s));
    EXPECT_FALSE(verify_signature(parsed, key, signed_at + 30s));
    EXPECT_FALSE(verify_signature(parsed, key, signed_at - 30s));

    auto old = verify_signature(parsed, key, signed_at + 31s);
    ASSERT_TRUE(old);
    EXPECT_EQ(old->error, ErrorClass::expired_signature);
    EXPECT_EQ(old->reason, "timestamp 31 s in the past");

    auto future = verify_signature(parsed, key, signed_at - 31s);
    ASSERT_TRUE(future);
    EXPECT_EQ(future->error, ErrorClass::expired_signature);
    EXPECT_EQ(future->reason, "timestamp 31 s in the future");

    auto just_over = verify_signature(parsed, key, signed_at + 30s + 1ms);
    ASSERT_TRUE(just_over);
    EXPECT_EQ(just_over->error, ErrorClass::expired_signature);
}

TEST(AuthSignature, SignatureCheckedBeforeTimestamp) {
    // A forged request learns nothing about the clock.
    const std::string q = sign_query("orig=o", key, SignatureAlgorithm::sha256, signed_at, nonce);
    const auto failure = verify_signature(parse_ok(q), "wrong", signed_at + 1h);
    ASSERT_TRUE(failure);
    EXPECT_EQ(failure->error, ErrorClass::invalid_signature);
}

TEST(AuthSignature, RejectsUnknownAlgorithm) {
    const std::string q =
        "orig=o&algo=md5&timestamp=2024-03-01T10%3A20%3A30Z&nonce=n&signature=AAAA";
    const auto failure = parse_error(q);
    EXPECT_EQ(failure.error, ErrorClass::invalid_signature);
    EXPECT_EQ(failure.reason, "unknown algorithm");
    EXPECT_FALSE(parse_signature_algorithm("sha3_256"));
    EXPECT_FALSE(parse_signature_algorithm("SHA256"));
}

TEST(AuthSignature, RejectsSignatureNotLast) {
    const std::string q = sign_query("orig=o", key, SignatureAlgorithm::sha256, signed_at, nonce);
    EXPECT_EQ(parse_error(q + "&extra=1").reason, "signature is not the last parameter");
    const auto sig = q.substr(q.find("&signature=") + 1);
    EXPECT_EQ(parse_error(sig + "&" + q.substr(0, q.find("&signature="))).reason,
              "signature is not the last parameter");
}

TEST(AuthSignature, RejectsMalformedQueries) {
    const std::string tail = "&signature=AAAA";
    const std::string ts = "&timestamp=2024-03-01T10%3A20%3A30Z";
    EXPECT_EQ(parse_error("orig=o&algo=sha256" + ts + tail).reason, "missing nonce");
    EXPECT_EQ(parse_error("algo=sha256&nonce=n" + ts + tail).reason, "missing orig");
    EXPECT_EQ(parse_error("orig=o&nonce=n" + ts + tail).reason, "missing algo");
    EXPECT_EQ(parse_error("orig=o&algo=sha256&nonce=n" + tail).reason, "missing timestamp");
    EXPECT_EQ(parse_error("orig=o&orig=p&algo=sha256&nonce=n" + ts + tail).reason,
              "orig given more than once");
    EXPECT_EQ(parse_error("orig=o&algo=sha256&nonce=n&timestamp=2024-03-01T10:20:30" + tail).reason,
              "malformed timestamp");
    EXPECT_EQ(parse_error("orig=o&algo=sha256&nonce=n" + ts + "&signature=A%ZZ").reason,
              "malformed signature");
    EXPECT_EQ(parse_error("orig=o&algo=sha256&nonce=n" + ts + "&signature=not*base64").reason,
              "malformed signature");
    EXPECT_EQ(parse_error("orig=o&algo=sha256&nonce=n" + ts).reason, "missing signature");
    EXPECT_EQ(parse_error("signature=AAAA").reason, "nothing signed before the signature");
    EXPECT_EQ(parse_error("orig=o&algo=sha256&nonce=" + std::string(129, 'a') + ts + tail).reason,
              "nonce longer than 128 characters");
    EXPECT_EQ(parse_error("orig=o&algo=sha256&nonce=n" + ts + tail + "&signature=AAAA").reason,
              "signature given more than once");
}

TEST(AuthSignature, WrongLengthSignatureIsAMismatch) {
    const std::string q =
        "orig=o&algo=sha256&timestamp=2024-03-01T10%3A20%3A30Z&nonce=n"
        "&signature=AAAA";
    const auto failure = verify_signature(parse_ok(q), key, signed_at);
    ASSERT_TRUE(failure);
    EXPECT_EQ(failure->reason, "signature mismatch");
}

TEST(AuthSignature, ReasonsNeverQuoteValues) {
    const std::string q =
        "orig=o&algo=canary-algo&timestamp=canary-ts&nonce=canary-n"
        "&signature=AAAA";
    EXPECT_EQ(parse_error(q).reason.find("canary"), std::string::npos);
}

TEST(AuthSignature, Timestamps) {
    EXPECT_EQ(format_timestamp(signed_at + 999ms), "2024-03-01T10:20:30Z");
    EXPECT_EQ(format_timestamp(at("1999-12-31T23:59:59Z")), "1999-12-31T23:59:59Z");
    // Years a time point can hold without wrapping around when compared.
    EXPECT_TRUE(parse_timestamp("1970-01-01T00:00:00Z"));
    EXPECT_TRUE(parse_timestamp("2200-12-31T23:59:59Z"));
    EXPECT_FALSE(parse_timestamp("1969-12-31T23:59:59Z"));
    EXPECT_FALSE(parse_timestamp("2201-01-01T00:00:00Z"));
    EXPECT_FALSE(parse_timestamp("2611-06-27T16:37:49Z"));
    EXPECT_FALSE(parse_timestamp("2024-02-30T10:20:30Z"));
    EXPECT_FALSE(parse_timestamp("2024-03-01T24:00:00Z"));
    EXPECT_FALSE(parse_timestamp("2024-03-01 10:20:30Z"));
    EXPECT_FALSE(parse_timestamp("2024-3-01T10:20:30Z"));
    EXPECT_FALSE(parse_timestamp("2024-03-01T10:20:30+00:00"));
    EXPECT_EQ(at("2024-02-29T00:00:00Z").time_since_epoch(), std::chrono::seconds(1709164800));
}

TEST(AuthSignature, RandomNonces) {
    const std::string a = random_nonce();
    const std::string b = random_nonce();
    EXPECT_EQ(a.size(), 32u);
    EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_NE(a, b);
}

TEST(AuthEncoding, FormEncodingMatchesPythonUrlencode) {
    std::string out;
    append_form_encoded(out, "a b/c:d+e~f_g.h-i&=é");
    EXPECT_EQ(out, "a+b%2Fc%3Ad%2Be~f_g.h-i%26%3D%C3%A9");
    out.clear();
    append_quoted(out, "a b/c+=");
    EXPECT_EQ(out, "a%20b/c%2B%3D");
}

TEST(AuthEncoding, Decoding) {
    EXPECT_EQ(url_decode("a+b%2Fc", true), "a b/c");
    EXPECT_EQ(url_decode("a+b%2fc", false), "a+b/c");
    EXPECT_FALSE(url_decode("%4", true));
    EXPECT_FALSE(url_decode("%G0", true));
    EXPECT_EQ(base64_decode("dXNlcjpwYXNz"), "user:pass");
    EXPECT_EQ(base64_decode("YQ=="), "a");
    EXPECT_EQ(base64_decode(""), "");
    EXPECT_FALSE(base64_decode("YQ="));
    EXPECT_FALSE(base64_decode("Y==Q"));
    EXPECT_FALSE(base64_decode("YQ =="));
    const unsigned char bytes[] = {0xfb, 0xff, 0x00};
    EXPECT_EQ(base64_encode(bytes), "+/8A");
}

}  // namespace
}  // namespace relais::auth
