// Async REST endpoints, delivery side: the stored message format, and
// prepare_push -> deliver against tests/support/fake_upstream.py (what the
// upstream receives, what is stored, what a damaged message gives).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <variant>

#include "rest/push_message.hpp"
#include "rest_test_support.hpp"
#include "upstream_test_support.hpp"

using namespace relais;
using namespace relais::rest;
using namespace relais::rest::test_support;
using namespace std::string_literals;
using relais::upstream::testing::FakeUpstreamProcess;
using relais::upstream::testing::json_of;
using relais::upstream::testing::run_on;
using relais::upstream::testing::string_at;

namespace {

const std::string bearer_secret = "bearer-canary-7f3a";
const std::string static_secret = "static-canary-91c2";

// A connector whose endpoint `push` (index 0) takes a demand and delivers it
// under `base_url`, authenticated with `token`.
std::unique_ptr<Connector> push_connector(const std::string& base_url,
                                          const std::string& token = bearer_secret) {
    return make_connector(R"({"upstream": {"base_url": ")" + base_url + R"(",
            "auth": {"bearer": {"token": ")" +
                          token + R"("}},
            "headers": {"X-Api-Key": ")" +
                          static_secret + R"("}},
        "endpoints": {"push": {
            "method": "POST", "async": true,
            "parameters": {"id": {"required": true}, "kind": {}},
            "body_schema": {"type": "object", "required": ["name"]},
            "request": {"method": "PUT", "path": "permits/{id}",
                        "query": {"kind": "{kind}", "v": "2"},
                        "headers": {"X-Demand": "demand {id}"},
                        "body": {"nom": "{body:/name}", "demande": "{id}"}}}}})");
}

PushMessage push_of(const Connector& connector, const IncomingRequest& request) {
    auto prepared = connector.prepare_push(0, request);
    if (auto* refusal = std::get_if<HttpResponse>(&prepared)) {
        ADD_FAILURE() << "refused: " << refusal->body;
        return {};
    }
    return std::get<PushMessage>(std::move(prepared));
}

upstream::Result deliver(const Connector& connector, const PushMessage& message,
                         const DeliveryContext& context) {
    boost::asio::io_context io;
    return run_on(io, connector.deliver(0, message, context));
}

const DeliveryContext context{"track-1", "idem-5f0c9a0e", "push-req-42", 1};

class RestDeliveryTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { fake_ = std::make_unique<FakeUpstreamProcess>(); }
    static void TearDownTestSuite() { fake_.reset(); }
    static inline std::unique_ptr<FakeUpstreamProcess> fake_;
};

}  // namespace

TEST(RestPushMessage, RoundTripsEveryByte) {
    const StoredPush push{"PATCH",
                          "a/b%2F?x=1&y=\xC3\xA9",
                          {{"X-One", ""}, {"X-Two", "v\0w"s}},
                          "{\"k\":\"\0\xFF\"}"s};
    const auto back = decode_push(encode_push(push));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->method, push.method);
    EXPECT_EQ(back->target, push.target);
    ASSERT_EQ(back->headers.size(), 2u);
    EXPECT_EQ(back->headers[1].name, "X-Two");
    EXPECT_EQ(back->headers[1].value, "v\0w"s);
    EXPECT_EQ(back->body, push.body);
    EXPECT_TRUE(decode_push(encode_push(StoredPush{"DELETE", "", {}, ""})));
}

TEST(RestPushMessage, RefusesAnythingElse) {
    const PushMessage good = encode_push(StoredPush{"POST", "t", {{"X-A", "1"}}, "body"});
    EXPECT_FALSE(decode_push(""));
    EXPECT_FALSE(decode_push("\x02" + good.substr(1)));  // unknown version
    EXPECT_FALSE(decode_push(good + "x"));               // trailing bytes
    for (std::size_t n = 0; n < good.size(); ++n) {      // every truncation
        EXPECT_FALSE(decode_push(good.substr(0, n))) << n;
    }
    std::string huge_count = good;
    huge_count[1 + 4 + 4 + 4 + 1] = '\x7F';  // the header count's first byte
    EXPECT_FALSE(decode_push(huge_count));
    EXPECT_FALSE(decode_push(encode_push(StoredPush{"CONNECT", "t", {}, ""})));
    EXPECT_FALSE(decode_push(encode_push(StoredPush{"POST", "t", {{"", "v"}}, ""})));
}

TEST(RestPushMessage, TargetsAreRelativeToTheBaseUrl) {
    EXPECT_EQ(target_of("http://h/api/", "http://h/api/permits/1?x=1"), "permits/1?x=1");
    EXPECT_EQ(target_of("http://h/api", "http://h/api/permits/1"), "permits/1");
    EXPECT_EQ(target_of("http://h/api", "http://h/api?x=1"), "?x=1");
    EXPECT_EQ(target_of("http://h/api", "http://h/api"), "");
    EXPECT_EQ(url_of("http://h/api", "permits/1?x=1"), "http://h/api/permits/1?x=1");
    EXPECT_EQ(url_of("http://h/api/", "permits/1"), "http://h/api/permits/1");
    EXPECT_EQ(url_of("http://h/api", "?x=1"), "http://h/api?x=1");
    EXPECT_EQ(url_of("http://h/new/", ""), "http://h/new/");
}

TEST_F(RestDeliveryTest, ThePushReachesTheUpstreamWithAuthAndIdempotencyKey) {
    const auto connector = push_connector(fake_->url("/echo/api/"));
    const PushMessage message =
        push_of(*connector,
                make_request("POST", {{"id", "42"}, {"kind", "a&b"}}, R"({"name": "Zoé \"Z\""})"));
    const upstream::Result result = deliver(*connector, message, context);
    ASSERT_EQ(result.failure, upstream::Failure::none) << result.detail;
    ASSERT_EQ(result.response.status, 200);
    const auto seen = json_of(result);
    EXPECT_EQ(string_at(seen, "/method"), "PUT");
    EXPECT_EQ(string_at(seen, "/path"), "/echo/api/permits/42");
    EXPECT_EQ(string_at(seen, "/raw_query"), "kind=a%26b&v=2");
    EXPECT_EQ(string_at(seen, "/json/nom"), "Zoé \"Z\"");
    EXPECT_EQ(string_at(seen, "/json/demande"), "42");
    EXPECT_EQ(string_at(seen, "/headers/idempotency-key"), "idem-5f0c9a0e");
    // The push's request id, not the one prepare_push saw.
    EXPECT_EQ(string_at(seen, "/headers/x-request-id"), "push-req-42");
    EXPECT_EQ(string_at(seen, "/headers/authorization"), "Bearer " + bearer_secret);
    EXPECT_EQ(string_at(seen, "/headers/x-api-key"), static_secret);
    EXPECT_EQ(string_at(seen, "/headers/x-demand"), "demand 42");
    EXPECT_EQ(string_at(seen, "/headers/content-type"), "application/json");
    EXPECT_EQ(string_at(seen, "/headers/accept"), "application/json");
}

TEST_F(RestDeliveryTest, TheStoredMessageHoldsNoSecretOfTheConnector) {
    const auto connector = push_connector(fake_->url("/echo/api/"));
    const PushMessage message =
        push_of(*connector, make_request("POST", {{"id", "42"}}, R"({"name": "n"})"));
    ASSERT_FALSE(message.empty());
    for (const std::string& secret :
         {bearer_secret, static_secret, fake_->base_url, std::to_string(fake_->port), "req-1"s}) {
        EXPECT_EQ(message.find(secret), std::string::npos) << secret;
    }
    const auto stored = decode_push(message);
    ASSERT_TRUE(stored);
    for (const auto& header : stored->headers) {
        EXPECT_FALSE(iequals_ascii(header.name, "Authorization"));
        EXPECT_FALSE(iequals_ascii(header.name, "X-Api-Key"));
        EXPECT_FALSE(iequals_ascii(header.name, "X-Request-ID"));
    }
}

// A push accepted before a reload is delivered with the configuration in
// force: its address and its credentials, never the old ones.
TEST_F(RestDeliveryTest, DeliveryUsesTheCurrentConfiguration) {
    const auto before = push_connector("http://127.0.0.1:9/old/", "old-token");
    const PushMessage message =
        push_of(*before, make_request("POST", {{"id", "7"}}, R"({"name": "n"})"));
    const auto after = push_connector(fake_->url("/echo/new"), "new-token");
    const upstream::Result result = deliver(*after, message, context);
    ASSERT_EQ(result.failure, upstream::Failure::none) << result.detail;
    const auto seen = json_of(result);
    EXPECT_EQ(string_at(seen, "/path"), "/echo/new/permits/7");
    EXPECT_EQ(string_at(seen, "/headers/authorization"), "Bearer new-token");
}

TEST_F(RestDeliveryTest, TheAnswerIsReturnedAsIsForTheCoreToJudge) {
    const auto failing = push_connector(fake_->url("/status/503/"));
    const PushMessage message =
        push_of(*failing, make_request("POST", {{"id", "1"}}, R"({"name": "n"})"));
    const upstream::Result answered = deliver(*failing, message, context);
    EXPECT_EQ(answered.failure, upstream::Failure::none);
    EXPECT_EQ(answered.response.status, 503);
    const auto down = push_connector(
        "http://127.0.0.1:" + std::to_string(upstream::testing::unused_port()) + "/");
    EXPECT_EQ(deliver(*down, message, context).failure, upstream::Failure::unreachable);
}

TEST_F(RestDeliveryTest, ADamagedMessageIsAnInternalFailureAndSendsNothing) {
    const auto connector = push_connector(fake_->url("/echo/api/"));
    const PushMessage message =
        push_of(*connector, make_request("POST", {{"id", "1"}}, R"({"name": "n"})"));
    const long long before = upstream::testing::fake_stat(*fake_, "requests");
    for (const std::string& damaged : {""s, message.substr(0, message.size() / 2), message + "\x01",
                                       "\x09" + message.substr(1), "{\"method\":\"POST\"}"s}) {
        const upstream::Result result = deliver(*connector, damaged, context);
        EXPECT_EQ(result.failure, upstream::Failure::internal);
        EXPECT_EQ(result.detail, "unreadable stored message");
    }
    // The fake does not count its /_control requests.
    EXPECT_EQ(upstream::testing::fake_stat(*fake_, "requests"), before);
}

// The synchronous path builds its request the same way: static headers,
// the call's own, then X-Request-ID and authentication.
TEST_F(RestDeliveryTest, ASynchronousCallSendsTheSameHeaders) {
    const auto connector =
        make_connector(R"({"upstream": {"base_url": ")" + fake_->url("/echo/") + R"(",
            "auth": {"bearer": {"token": "t0k"}}, "headers": {"X-Static": "s"}},
        "endpoints": {"call": {"method": "POST", "parameters": {"id": {"required": true}},
            "request": {"method": "POST", "path": "items/{id}",
                        "headers": {"X-Demand": "{id}"}, "body": {"id": "{id}"}}}}})");
    boost::asio::io_context io;
    const HttpResponse response =
        run_on(io, connector->handle(0, make_request("POST", {{"id", "9"}}, "")));
    ASSERT_EQ(response.status, 200u) << response.body;
    rapidjson::Document body;
    body.Parse(response.body.c_str());
    const auto header = [&](const char* name) {
        const rapidjson::Value* v =
            rapidjson::Pointer((std::string("/data/headers/") + name).c_str()).Get(body);
        return v != nullptr && v->IsString() ? std::string(v->GetString()) : "<absent>";
    };
    EXPECT_EQ(header("x-request-id"), "req-1");
    EXPECT_EQ(header("x-static"), "s");
    EXPECT_EQ(header("x-demand"), "9");
    EXPECT_EQ(header("authorization"), "Bearer t0k");
    EXPECT_EQ(header("content-type"), "application/json");
    EXPECT_EQ(header("accept"), "application/json");
    EXPECT_EQ(header("idempotency-key"), "<absent>");
}
