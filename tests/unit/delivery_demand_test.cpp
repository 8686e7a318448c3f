// New demands for the GRU core (ConnectorServices::submit_demand): the
// submit URL, the body, the envelope and what w.c.s.'s answers mean.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <variant>

#include "delivery/demand.hpp"
#include "delivery/envelope.hpp"
#include "delivery/retry_policy.hpp"
#include "upstream/http_client.hpp"

namespace relais::delivery {
namespace {

using Verdict = outbox::AttemptRecord::Verdict;

constexpr const char* gru = "https://demarches.example.org/";

rapidjson::Document parsed(const std::string& text) {
    rapidjson::Document document;
    document.Parse(text.data(), text.size());
    return document;
}

/// The outbox payload prepare_demand makes of `demand`, which must be valid.
std::string payload_of(const GruDemand& demand) {
    auto prepared = prepare_demand(gru, demand);
    EXPECT_TRUE(std::holds_alternative<std::string>(prepared));
    return std::get<std::string>(prepared);
}

TEST(DemandEnvelope, RoundTrips) {
    const auto decoded = decode_demand(
        payload_of({"appel", R"({"telephone":"0102030405 \"é\""})", "phone", "req-1", ""}));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->url, "https://demarches.example.org/api/formdefs/appel/submit");
    EXPECT_EQ(decoded->body,
              R"({"data":{"telephone":"0102030405 \"é\""},"context":{"channel":"phone"}})");
    EXPECT_EQ(decoded->reference, "");
}

TEST(DemandEnvelope, CarriesTheBodyAsItIsAfterItsHead) {
    const std::string data = R"({"courrier":{"b64_content":"JVBERi0x"},)"
                             "\n"
                             R"("objet":"a\"b"})";
    const GruDemand demand{"courrier", data, "mail", "req-2", "GEC/2026\"42\u00e9"};
    const std::string payload = payload_of(demand);
    // The data is not escaped into a JSON string: a document of megabytes
    // is copied once, and never parsed into a tree.
    EXPECT_NE(payload.find(data), std::string::npos);
    const auto decoded = decode_demand(payload);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->url, "https://demarches.example.org/api/formdefs/courrier/submit");
    EXPECT_EQ(decoded->body, R"({"data":)" + data + R"(,"context":{"channel":"mail"}})");
    EXPECT_EQ(decoded->reference, demand.reference);
}

TEST(DemandEnvelope, ReadsDemandsQueuedByEarlierVersions) {
    const auto decoded = decode_demand(R"({"url":"https://g/api/formdefs/a/submit","body":"{}"})");
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->url, "https://g/api/formdefs/a/submit");
    EXPECT_EQ(decoded->body, "{}");
    EXPECT_EQ(decoded->reference, "");
}

TEST(DemandEnvelope, RefusesWhatIsNotOne) {
    EXPECT_FALSE(decode_demand(""));
    EXPECT_FALSE(decode_demand("[]"));
    EXPECT_FALSE(decode_demand(R"({"url":"x"})"));
    EXPECT_FALSE(decode_demand(R"({"url":"x","body":3})"));
    EXPECT_FALSE(decode_demand(R"({"url":"x","body":"{}")"));
    EXPECT_FALSE(decode_demand(R"({"url":"x","reference":"r"}{})"));
    EXPECT_FALSE(decode_demand(R"({"url":"x"})"
                               "\n{}"));
    EXPECT_FALSE(decode_demand(R"({"url":"x","reference":3})"
                               "\n{}"));
}

TEST(DemandReference, IsShortTextWithoutControls) {
    EXPECT_TRUE(is_demand_reference(""));
    EXPECT_TRUE(is_demand_reference("GEC/2026/00042"));
    EXPECT_TRUE(is_demand_reference(std::string(256, 'r')));
    EXPECT_TRUE(is_demand_reference("courrier n°42"));
    EXPECT_FALSE(is_demand_reference(std::string(257, 'r')));
    EXPECT_FALSE(is_demand_reference("a\nb"));
    EXPECT_FALSE(is_demand_reference(std::string("a\0b", 3)));
}

TEST(OpenedDemand, IsTheUrlTheGruAnswered) {
    EXPECT_EQ(
        opened_demand_url(
            R"({"err":0,"data":{"id":"12","url":"https://demarches.example.org/courrier/12"}})",
            gru),
        "https://demarches.example.org/courrier/12/");
    EXPECT_EQ(opened_demand_url(
                  R"({"err":0,"data":{"url":"https://demarches.example.org/courrier/12/"}})", gru),
              "https://demarches.example.org/courrier/12/");
    for (const char* bad :
         {"", "{}", "not json", R"({"data":null})", R"({"data":{"id":"12"}})",
          R"({"data":{"url":12}})", R"({"data":{"url":"https://evil.example.org/courrier/12/"}})",
          R"({"data":{"url":"https://demarches.example.org/"}})",
          R"({"data":{"url":"https://demarches.example.org/a/../../x/"}})",
          R"({"data":{"url":"https://demarches.example.org/a/1/?x=1"}})"}) {
        EXPECT_FALSE(opened_demand_url(bad, gru)) << bad;
    }
}

TEST(DemandUrl, FormdefSlugs) {
    for (const char* good : {"a", "0", "appel-entrant", "demande_2026", "a-_9"}) {
        EXPECT_TRUE(is_formdef_slug(good)) << good;
    }
    const std::string longest(64, 'a');
    EXPECT_TRUE(is_formdef_slug(longest));
    for (const std::string& bad :
         {std::string(), std::string(65, 'a'), std::string("-a"), std::string("_a"),
          std::string("Appel"), std::string("a/b"), std::string(".."), std::string("a b"),
          std::string("a%2fb"), std::string("a?x=1"), std::string("a#b"), std::string("é"),
          std::string("a\0b", 3)}) {
        EXPECT_FALSE(is_formdef_slug(bad)) << bad;
    }
}

TEST(DemandUrl, IsBuiltUnderTheGruUrl) {
    EXPECT_EQ(submit_url(gru, "appel-entrant"),
              "https://demarches.example.org/api/formdefs/appel-entrant/submit");
    EXPECT_EQ(submit_url("https://gru.example.org/publik/", "x_1"),
              "https://gru.example.org/publik/api/formdefs/x_1/submit");
    EXPECT_FALSE(submit_url(gru, "../../admin"));
    EXPECT_FALSE(submit_url(gru, "a/b"));
    EXPECT_FALSE(submit_url(gru, ""));
}

TEST(DemandUrl, ChannelNames) {
    for (const char* good : {"", "phone", "mail", "counter", "social-network", "web_2"}) {
        EXPECT_TRUE(is_channel_name(good)) << good;
    }
    for (const std::string& bad : {std::string("Phone"), std::string("1phone"), std::string("-x"),
                                   std::string(33, 'a'), std::string("a\"b"), std::string("a b")}) {
        EXPECT_FALSE(is_channel_name(bad)) << bad;
    }
}

std::optional<std::string> submit_body(std::string_view data_json, std::string_view channel) {
    std::string body = "kept";
    if (!append_submit_body(body, data_json, channel)) {
        EXPECT_EQ(body, "kept");
        return std::nullopt;
    }
    EXPECT_TRUE(body.starts_with("kept"));
    return body.substr(4);
}

TEST(DemandBody, CarriesDataAndChannel) {
    const auto body = submit_body(R"({"telephone":"+33102030405","poste":"12"})", "phone");
    ASSERT_TRUE(body);
    const auto document = parsed(*body);
    ASSERT_TRUE(document.IsObject()) << *body;
    EXPECT_STREQ(document["data"]["telephone"].GetString(), "+33102030405");
    EXPECT_STREQ(document["data"]["poste"].GetString(), "12");
    EXPECT_STREQ(document["context"]["channel"].GetString(), "phone");
    EXPECT_EQ(document.MemberCount(), 2u);
}

TEST(DemandBody, NoContextWithoutChannel) {
    EXPECT_EQ(submit_body("{}", ""), R"({"data":{}})");
}

TEST(DemandBody, DataMustBeOneJsonObject) {
    EXPECT_FALSE(submit_body("", "phone"));
    EXPECT_FALSE(submit_body("[]", "phone"));
    EXPECT_FALSE(submit_body(R"("x")", "phone"));
    EXPECT_FALSE(submit_body("{", "phone"));
    // Trailing text would escape the "data" member and forge the context.
    EXPECT_FALSE(submit_body(R"({}, "context": {"channel": "web"})", "phone"));
    EXPECT_FALSE(submit_body(R"({"a":"\xff"})", "phone"));
}

TEST(DemandBody, PrepareSaysWhyNot) {
    GruDemand demand{"appel-entrant", R"({"telephone":"0102"})", "phone", "req-1", ""};
    EXPECT_EQ(decode_demand(payload_of(demand))->url,
              "https://demarches.example.org/api/formdefs/appel-entrant/submit");

    demand.formdef = "Appel";
    EXPECT_EQ(std::get<std::string_view>(prepare_demand(gru, demand)),
              "formdef is not a form slug");
    demand.formdef = "appel";
    demand.channel = "Phone";
    EXPECT_EQ(std::get<std::string_view>(prepare_demand(gru, demand)),
              "channel is not a channel name");
    demand.channel = "phone";
    demand.data_json = "[1]";
    EXPECT_EQ(std::get<std::string_view>(prepare_demand(gru, demand)), "data is not a JSON object");
    demand.data_json = "{}";
    demand.reference = "a\rb";
    EXPECT_EQ(std::get<std::string_view>(prepare_demand(gru, demand)),
              "reference is not 1 to 256 bytes without control characters");
    demand.reference = "GEC-42";
    EXPECT_EQ(decode_demand(payload_of(demand))->reference, "GEC-42");
}

upstream::Result answer(long status, std::string body = "{}") {
    upstream::Result result;
    result.response.status = status;
    result.response.body = std::move(body);
    return result;
}

upstream::Result failure(upstream::Failure what) {
    upstream::Result result;
    result.failure = what;
    result.detail = "no answer";
    return result;
}

TEST(DemandClassification, Table) {
    const auto now = outbox::Clock::now();
    struct Row {
        upstream::Result result;
        Verdict verdict;
        const char* error_class;
    };
    const Row rows[] = {
        {answer(200, R"({"err":0,"data":{"id":"12"}})"), Verdict::delivered, ""},
        {answer(201), Verdict::delivered, ""},
        {answer(404), Verdict::dead, "formdef-unavailable"},
        {answer(400), Verdict::dead, "gru-refused"},
        {answer(401), Verdict::dead, "gru-refused"},
        {answer(403), Verdict::dead, "gru-refused"},
        {answer(403, "formdata currently processing actions"), Verdict::dead, "gru-refused"},
        {answer(409), Verdict::dead, "gru-refused"},
        {answer(422), Verdict::dead, "gru-refused"},
        {answer(408), Verdict::retry, "upstream-error"},
        {answer(429), Verdict::retry, "upstream-error"},
        {answer(500), Verdict::retry, "upstream-error"},
        {answer(502), Verdict::retry, "upstream-error"},
        {answer(503), Verdict::retry, "upstream-error"},
        {failure(upstream::Failure::unreachable), Verdict::retry, "upstream-unreachable"},
        {failure(upstream::Failure::timeout), Verdict::retry, "upstream-timeout"},
    };
    for (const Row& row : rows) {
        const Decision decision = classify_demand(row.result, now);
        EXPECT_EQ(decision.verdict, row.verdict) << row.result.response.status;
        EXPECT_EQ(decision.error_class, row.error_class) << row.result.response.status;
    }
}

TEST(DemandClassification, HonoursRetryAfter) {
    auto busy = answer(503);
    busy.response.headers.push_back({"Retry-After", "7"});
    const Decision decision = classify_demand(busy, outbox::Clock::now());
    EXPECT_EQ(decision.verdict, Verdict::retry);
    EXPECT_EQ(decision.retry_after, std::chrono::seconds(7));
}

}  // namespace
}  // namespace relais::delivery
