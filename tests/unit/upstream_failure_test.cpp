// The pure parts of the upstream client: curl codes to failures, failures
// to error classes, credential encodings and token responses.

#include <gtest/gtest.h>

#include "upstream/credentials.hpp"
#include "upstream/curl_failure.hpp"
#include "upstream/oauth_token_source.hpp"

namespace relais::upstream {
namespace {

using namespace std::chrono_literals;

TEST(UpstreamFailureTest, CurlCodesMapToFailuresInWords) {
    struct Case {
        CURLcode code;
        Failure failure;
        std::string detail;
    };
    TransferFacts refused;
    refused.os_errno = ECONNREFUSED;
    const Case cases[] = {
        {CURLE_COULDNT_RESOLVE_HOST, Failure::unreachable, "could not resolve host"},
        {CURLE_COULDNT_CONNECT, Failure::unreachable, "could not connect"},
        {CURLE_SEND_ERROR, Failure::unreachable, "connection lost while sending the request"},
        {CURLE_RECV_ERROR, Failure::unreachable, "connection lost while receiving the response"},
        {CURLE_GOT_NOTHING, Failure::unreachable, "connection closed without a response"},
        {CURLE_SSL_CONNECT_ERROR, Failure::unreachable, "TLS handshake failed"},
        {CURLE_PEER_FAILED_VERIFICATION, Failure::unreachable,
         "TLS certificate verification failed"},
        {CURLE_OPERATION_TIMEDOUT, Failure::timeout, "connection timed out"},
        {CURLE_UNSUPPORTED_PROTOCOL, Failure::internal, "URL scheme is not http or https"},
        {CURLE_URL_MALFORMAT, Failure::internal, "malformed URL"},
        {CURLE_WRITE_ERROR, Failure::internal, "response could not be stored"},
    };
    for (const Case& c : cases) {
        const auto [failure, detail] = classify(c.code, {});
        EXPECT_EQ(failure, c.failure) << c.code;
        EXPECT_EQ(detail, c.detail) << c.code;
    }
    EXPECT_EQ(classify(CURLE_COULDNT_CONNECT, refused).second, "connection refused");
}

TEST(UpstreamFailureTest, TimeoutSaysWhetherTheConnectionWasMade) {
    TransferFacts connected;
    connected.connected = true;
    EXPECT_EQ(classify(CURLE_OPERATION_TIMEDOUT, connected).second,
              "no complete response within the timeout");
}

TEST(UpstreamFailureTest, SizeLimitsAreTooLarge) {
    TransferFacts body;
    body.body_too_large = true;
    body.max_response_bytes = 10;
    EXPECT_EQ(
        classify(CURLE_WRITE_ERROR, body),
        std::make_pair(Failure::too_large, std::string("response body larger than 10 bytes")));
    EXPECT_EQ(classify(CURLE_FILESIZE_EXCEEDED, body).first, Failure::too_large);
    TransferFacts headers;
    headers.headers_too_large = true;
    EXPECT_EQ(classify(CURLE_WRITE_ERROR, headers).first, Failure::too_large);
}

TEST(UpstreamFailureTest, FailuresMapToErrorClasses) {
    EXPECT_EQ(error_class_of(Failure::unreachable), ErrorClass::upstream_unreachable);
    EXPECT_EQ(error_class_of(Failure::auth_failed), ErrorClass::upstream_unreachable);
    EXPECT_EQ(error_class_of(Failure::timeout), ErrorClass::upstream_timeout);
    EXPECT_EQ(error_class_of(Failure::too_large), ErrorClass::upstream_invalid_response);
    EXPECT_EQ(error_class_of(Failure::internal), ErrorClass::internal_error);
}

TEST(UpstreamCredentialsTest, BasicAuthorizationIsBase64OfUserColonPassword) {
    EXPECT_EQ(basic_authorization("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    EXPECT_EQ(basic_authorization("", ""), "Basic Og==");
}

TEST(UpstreamCredentialsTest, FormEncodingKeepsUnreservedAndEscapesTheRest) {
    EXPECT_EQ(form_encode("aZ09-._~"), "aZ09-._~");
    EXPECT_EQ(form_encode("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
}

Result answer(long status, std::string body) {
    Result result;
    result.response.status = status;
    result.response.body = std::move(body);
    return result;
}

TEST(UpstreamTokenResponseTest, TokenAndLifetimeAreRead) {
    const auto [outcome, lifetime] = read_token_response(
        answer(200, R"({"access_token":"abc","token_type":"bearer","expires_in":3600})"));
    EXPECT_EQ(outcome.token, "abc");
    EXPECT_TRUE(outcome.failure.empty());
    EXPECT_EQ(lifetime, std::chrono::steady_clock::duration(3570s));
}

TEST(UpstreamTokenResponseTest, ShortLifetimesKeepNinetyPercent) {
    EXPECT_EQ(read_token_response(answer(200, R"({"access_token":"a","expires_in":"100"})")).second,
              std::chrono::steady_clock::duration(90s));
    EXPECT_EQ(read_token_response(answer(200, R"({"access_token":"a","expires_in":1})")).second,
              std::chrono::steady_clock::duration(900ms));
    EXPECT_EQ(read_token_response(answer(200, R"({"access_token":"a"})")).second,
              std::chrono::steady_clock::duration(300s));
}

TEST(UpstreamTokenResponseTest, UnusableAnswersAreFailures) {
    const std::pair<Result, std::string> cases[] = {
        {answer(400, R"({"error":"invalid_scope"})"), "token endpoint answered 400"},
        {answer(200, "not json"), "token endpoint answered no JSON object"},
        {answer(200, R"({"token":"x"})"), "token endpoint answered no access_token"},
        {answer(200, R"({"access_token":"a b"})"),
         "token endpoint answered an unusable access_token"},
        {answer(200, R"({"access_token":"a","token_type":"mac"})"),
         "token endpoint answered a token that is not a Bearer token"},
        {answer(200, R"({"access_token":"a","expires_in":-5})"),
         "token endpoint answered an invalid expires_in"},
    };
    for (const auto& [result, detail] : cases) {
        const auto outcome = read_token_response(result).first;
        EXPECT_TRUE(outcome.token.empty()) << detail;
        EXPECT_EQ(outcome.failure, detail);
    }
    Result unreachable;
    unreachable.failure = Failure::timeout;
    unreachable.detail = "connection timed out";
    EXPECT_EQ(read_token_response(unreachable).first.failure,
              "token endpoint: connection timed out");
}

}  // namespace
}  // namespace relais::upstream
