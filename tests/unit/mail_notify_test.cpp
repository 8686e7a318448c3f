// Kind mail, endpoint `closed`: prepare_push turns the GRU's closing call
// into the notification (notify's templates, escaping, refusals), and
// deliver sends it to the GEC like kind rest's pushes, against
// tests/support/fake_upstream.py.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <variant>

#include "mail_test_support.hpp"
#include "rest/push_message.hpp"

using namespace relais;
using namespace relais::mail;
using namespace relais::mail::test_support;
using namespace std::string_literals;
using relais::upstream::testing::FakeUpstreamProcess;
using relais::upstream::testing::json_of;
using relais::upstream::testing::run_on;
using relais::upstream::testing::string_at;

namespace {

const std::string closing_body =
    R"({"reference":"GEC-2026-0042","demand_url":"https://wcs.test/courrier-entrant/12/",)"
    R"("message":"Réponse \"prête\""})";

std::string closing(const std::string& reference_json) {
    return R"({"reference":)" + reference_json + R"(,"demand_url":"https://wcs.test/d/12/"})";
}

std::variant<PushMessage, HttpResponse> push_of(const Connector& connector, const std::string& body,
                                                const std::string& method = "POST") {
    return connector.prepare_push(closed_endpoint, post(body, method));
}

rest::StoredPush stored(const Connector& connector, const std::string& body) {
    auto prepared = push_of(connector, body);
    if (auto* refusal = std::get_if<HttpResponse>(&prepared)) {
        ADD_FAILURE() << "refused: " << refusal->body;
        return {};
    }
    auto push = rest::decode_push(std::get<PushMessage>(prepared));
    EXPECT_TRUE(push);
    return push.value_or(rest::StoredPush{});
}

HttpResponse refusal_of(const Connector& connector, const std::string& body,
                        const std::string& method = "POST") {
    auto prepared = push_of(connector, body, method);
    if (!std::holds_alternative<HttpResponse>(prepared)) {
        ADD_FAILURE() << "accepted";
        return {};
    }
    return std::get<HttpResponse>(std::move(prepared));
}

std::string with_notify(const std::string& notify_yaml) {
    const std::string from = "notify:\n";
    const std::string to = "endpoints:\n";
    const auto start = example_yaml.find(from);
    const auto end = example_yaml.find(to);
    return example_yaml.substr(0, start) + notify_yaml + example_yaml.substr(end);
}

const DeliveryContext context{"track-1", "idem-5f0c9a0e", "push-req-42", 1};

upstream::Result deliver(const Connector& connector, const PushMessage& message,
                         std::size_t endpoint = closed_endpoint) {
    boost::asio::io_context io;
    return run_on(io, connector.deliver(endpoint, message, context));
}

class MailDeliveryTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { fake_ = std::make_unique<FakeUpstreamProcess>(); }
    static void TearDownTestSuite() { fake_.reset(); }

    static std::string yaml_for(const std::string& base_url) {
        return replaced(example_yaml, "  base_url: http://127.0.0.1:8091/api/",
                        "  base_url: " + base_url + "\n  headers: {X-Api-Version: \"2\"}");
    }

    static inline std::unique_ptr<FakeUpstreamProcess> fake_;
};

}  // namespace

TEST(MailClosed, TheNotificationIsNotifyFilledWithTheClosingCall) {
    const auto connector = make_connector(example_yaml);
    const rest::StoredPush push = stored(*connector, closing_body);
    EXPECT_EQ(push.method, "PUT");
    EXPECT_EQ(push.target, "mails/GEC-2026-0042/reply");
    ASSERT_EQ(push.headers.size(), 2u);
    EXPECT_EQ(push.headers[0].name, "X-Source");
    EXPECT_EQ(push.headers[0].value, "relais");
    EXPECT_EQ(push.headers[1].name, "Content-Type");
    EXPECT_EQ(push.headers[1].value, "application/json");
    EXPECT_EQ(push.body,
              R"({"status":"reply-ready","demand":"https://wcs.test/courrier-entrant/12/",)"
              R"("message":"Réponse \"prête\""})");
}

TEST(MailClosed, AHostileReferenceStaysOnePathSegmentAndJsonText) {
    const auto connector = make_connector(with_notify(R"(notify:
  path: "mails/{reference}/reply"
  headers: {X-Reference: "ref {reference}"}
  body: {reference: "{reference}", text: "Courrier {reference}", all: "{body:/}"}
)"));
    const rest::StoredPush push =
        stored(*connector, R"({"reference":"../x?y#z \"q\" %2F é","extra":[1]})");
    EXPECT_EQ(push.method, "POST");
    EXPECT_EQ(push.target, "mails/..%2Fx%3Fy%23z%20%22q%22%20%252F%20%C3%A9/reply");
    ASSERT_GE(push.headers.size(), 1u);
    EXPECT_EQ(push.headers[0].value, "ref ../x?y#z \"q\" %2F é");
    EXPECT_EQ(push.body,
              R"({"reference":"../x?y#z \"q\" %2F é","text":"Courrier ../x?y#z \"q\" %2F é",)"
              R"("all":{"reference":"../x?y#z \"q\" %2F é","extra":[1]}})");
}

TEST(MailClosed, AbsentValuesAreLeftOutAsInKindRest) {
    const auto connector = make_connector(example_yaml);
    const rest::StoredPush push = stored(*connector, R"({"reference":"R1","message":null})");
    EXPECT_EQ(push.body, R"({"status":"reply-ready","message":null})");
}

TEST(MailClosed, WithoutBodyNothingButThePath) {
    const auto connector = make_connector(with_notify("notify: {path: done}\n"));
    const rest::StoredPush push = stored(*connector, R"({"reference":"R1"})");
    EXPECT_EQ(push.method, "POST");
    EXPECT_EQ(push.target, "done");
    EXPECT_TRUE(push.headers.empty());
    EXPECT_EQ(push.body, "");
    const auto bare = make_connector(with_notify("notify: {}\n"));
    EXPECT_EQ(stored(*bare, R"({"reference":"R1"})").target, "");
}

TEST(MailClosed, RefusesWhatTheContractRefuses) {
    const auto connector = make_connector(example_yaml);
    const auto expect = [&](const HttpResponse& response, unsigned status, const std::string& err) {
        EXPECT_EQ(response.status, status) << response.body;
        EXPECT_EQ(err_class(response), err) << response.body;
    };
    const HttpResponse get = refusal_of(*connector, closing_body, "GET");
    expect(get, 405, "method-not-allowed");
    ASSERT_NE(find_header(get.headers, "Allow"), nullptr);
    EXPECT_EQ(*find_header(get.headers, "Allow"), "POST");
    IncomingRequest beyond = post(closing_body);
    beyond.rest = "x";
    auto deeper = connector->prepare_push(closed_endpoint, beyond);
    ASSERT_TRUE(std::holds_alternative<HttpResponse>(deeper));
    expect(std::get<HttpResponse>(deeper), 404, "not-found");
    for (const std::string& body : {""s, "nope"s, "[1]"s, "\"R1\""s, "{\"reference\":\"R\0\"}"s}) {
        expect(refusal_of(*connector, body), 400, "invalid-json");
    }
    expect(refusal_of(*connector, R"({"demand_url":"https://wcs.test/d/1/"})"), 400,
           "missing-parameter");
    expect(refusal_of(*connector, closing("null")), 400, "missing-parameter");
    for (const std::string& bad : {"42"s, "true"s, "\"\""s, "[\"R1\"]"s, "\"R\\n1\""s,
                                   "\"" + std::string(257, 'r') + "\""}) {
        expect(refusal_of(*connector, closing(bad)), 400, "invalid-parameter");
    }
    for (const std::string& dots : {"\".\""s, "\"..\""s}) {
        const HttpResponse response = refusal_of(*connector, closing(dots));
        expect(response, 400, "invalid-parameter");
        EXPECT_NE(response.body.find("parameter 'reference'"), std::string::npos);
    }
    EXPECT_TRUE(std::holds_alternative<PushMessage>(
        push_of(*connector, closing("\"" + std::string(256, 'r') + "\""))));
}

TEST(MailClosed, TemplateRefusalsAreKindRests) {
    const auto connector = make_connector(with_notify(R"(notify:
  path: "mails/{reference}"
  headers: {X-Demand: "{body:/demand_url}"}
  body: {text: "closed: {body:/message}"}
)"));
    const auto expect_invalid_body = [&](const std::string& body) {
        const HttpResponse response = refusal_of(*connector, body);
        EXPECT_EQ(response.status, 400u);
        EXPECT_EQ(err_class(response), "invalid-body") << response.body;
    };
    expect_invalid_body(R"({"reference":"R1","demand_url":{"a":1}})");
    expect_invalid_body(R"({"reference":"R1","demand_url":"u","message":["m"]})");
    const HttpResponse control =
        refusal_of(*connector, R"({"reference":"R1","demand_url":"a\r\nX-Evil: 1"})");
    EXPECT_EQ(err_class(control), "invalid-body");
}

TEST(MailClosed, TheStoredMessageHoldsNoSecretOfTheConnector) {
    const auto connector = make_connector(example_yaml);
    auto prepared = push_of(*connector, closing_body);
    ASSERT_TRUE(std::holds_alternative<PushMessage>(prepared));
    const PushMessage& message = std::get<PushMessage>(prepared);
    for (const std::string& secret :
         {"password-canary-5e1d"s, "127.0.0.1:8091"s, "req-mail-1"s, "relais:"s}) {
        EXPECT_EQ(message.find(secret), std::string::npos) << secret;
    }
}

TEST(MailClosed, MailsHasNoPush) {
    const auto connector = make_connector(example_yaml);
    auto prepared = connector->prepare_push(mails_endpoint, post(closing_body));
    ASSERT_TRUE(std::holds_alternative<HttpResponse>(prepared));
    EXPECT_EQ(std::get<HttpResponse>(prepared).status, 500u);
}

TEST_F(MailDeliveryTest, TheNotificationReachesTheGecAsKindRestDeliversAPush) {
    const auto connector = make_connector(yaml_for(fake_->url("/echo/api/")));
    auto prepared = push_of(*connector, closing(R"("../x?y#z")"));
    ASSERT_TRUE(std::holds_alternative<PushMessage>(prepared));
    const upstream::Result result = deliver(*connector, std::get<PushMessage>(prepared));
    ASSERT_EQ(result.failure, upstream::Failure::none) << result.detail;
    ASSERT_EQ(result.response.status, 200);
    const auto seen = json_of(result);
    EXPECT_EQ(string_at(seen, "/method"), "PUT");
    EXPECT_EQ(string_at(seen, "/path"), "/echo/api/mails/..%2Fx%3Fy%23z/reply");
    EXPECT_EQ(string_at(seen, "/json/status"), "reply-ready");
    EXPECT_EQ(string_at(seen, "/json/demand"), "https://wcs.test/d/12/");
    EXPECT_EQ(string_at(seen, "/headers/authorization"),
              "Basic " + base64("relais:password-canary-5e1d"));
    EXPECT_EQ(string_at(seen, "/headers/idempotency-key"), "idem-5f0c9a0e");
    EXPECT_EQ(string_at(seen, "/headers/x-request-id"), "push-req-42");
    EXPECT_EQ(string_at(seen, "/headers/x-source"), "relais");
    EXPECT_EQ(string_at(seen, "/headers/x-api-version"), "2");
    EXPECT_EQ(string_at(seen, "/headers/content-type"), "application/json");
    EXPECT_EQ(string_at(seen, "/headers/accept"), "application/json");
}

// A notification accepted before a reload goes to the address, with the
// credentials, of the configuration in force.
TEST_F(MailDeliveryTest, DeliveryUsesTheCurrentConfiguration) {
    const auto before = make_connector(yaml_for("http://127.0.0.1:9/old/"));
    auto prepared = push_of(*before, closing(R"("R7")"));
    ASSERT_TRUE(std::holds_alternative<PushMessage>(prepared));
    const auto after = make_connector(
        replaced(yaml_for(fake_->url("/echo/new")), "password-canary-5e1d", "new-password"));
    const upstream::Result result = deliver(*after, std::get<PushMessage>(prepared));
    ASSERT_EQ(result.failure, upstream::Failure::none) << result.detail;
    const auto seen = json_of(result);
    EXPECT_EQ(string_at(seen, "/path"), "/echo/new/mails/R7/reply");
    EXPECT_EQ(string_at(seen, "/headers/authorization"), "Basic " + base64("relais:new-password"));
}

TEST_F(MailDeliveryTest, TheAnswerIsReturnedAsIsForTheCoreToJudge) {
    const auto failing = make_connector(yaml_for(fake_->url("/status/503/")));
    auto prepared = push_of(*failing, closing(R"("R1")"));
    ASSERT_TRUE(std::holds_alternative<PushMessage>(prepared));
    const upstream::Result answered = deliver(*failing, std::get<PushMessage>(prepared));
    EXPECT_EQ(answered.failure, upstream::Failure::none);
    EXPECT_EQ(answered.response.status, 503);
    const auto down = make_connector(
        yaml_for("http://127.0.0.1:" + std::to_string(upstream::testing::unused_port()) + "/"));
    EXPECT_EQ(deliver(*down, std::get<PushMessage>(prepared)).failure,
              upstream::Failure::unreachable);
}

TEST_F(MailDeliveryTest, ADamagedMessageIsAnInternalFailureAndSendsNothing) {
    const auto connector = make_connector(yaml_for(fake_->url("/echo/api/")));
    auto prepared = push_of(*connector, closing(R"("R1")"));
    ASSERT_TRUE(std::holds_alternative<PushMessage>(prepared));
    const PushMessage& message = std::get<PushMessage>(prepared);
    const long long before = upstream::testing::fake_stat(*fake_, "requests");
    for (const std::string& damaged : {""s, message.substr(0, message.size() / 2), message + "\x01",
                                       "{\"reference\":\"R1\"}"s}) {
        const upstream::Result result = deliver(*connector, damaged);
        EXPECT_EQ(result.failure, upstream::Failure::internal);
        EXPECT_EQ(result.detail, "unreadable stored message");
    }
    const upstream::Result wrong_endpoint = deliver(*connector, message, mails_endpoint);
    EXPECT_EQ(wrong_endpoint.failure, upstream::Failure::internal);
    EXPECT_EQ(upstream::testing::fake_stat(*fake_, "requests"), before);
}
