#include <gtest/gtest.h>

#include <string>

#include "delivery/envelope.hpp"

using namespace relais::delivery;

namespace {

std::string all_bytes() {
    std::string bytes;
    for (int i = 0; i < 256; ++i) {
        bytes.push_back(static_cast<char>(i));
    }
    return bytes;
}

}  // namespace

TEST(DeliveryEnvelope, PushRoundTripKeepsEveryByte) {
    const PushEnvelope envelope{"https://demarches.example.org/urbanisme/permis/42/",
                                all_bytes() + std::string("\0\"\\", 3)};
    const std::string text = encode(envelope);
    const auto decoded = decode_push(text);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->demand_url, envelope.demand_url);
    EXPECT_EQ(decoded->message, envelope.message);
    // Compact JSON text: no raw control byte travels in it.
    EXPECT_EQ(text.find('\n'), std::string::npos);
    EXPECT_EQ(text.find('\0'), std::string::npos);
}

TEST(DeliveryEnvelope, PushWithoutDemandOrMessage) {
    const auto decoded = decode_push(encode(PushEnvelope{}));
    ASSERT_TRUE(decoded);
    EXPECT_TRUE(decoded->demand_url.empty());
    EXPECT_TRUE(decoded->message.empty());
}

TEST(DeliveryEnvelope, TriggerRoundTrip) {
    TriggerEnvelope envelope;
    envelope.url = "https://demarches.example.org/urbanisme/permis/42/jump/trigger/accepte/";
    envelope.body =
        R"({"reference":"PC-2026-0042","status":"accepted","message":"Permis accordé"})";
    envelope.reference = "PC-2026-0042 \"é\"";
    envelope.terminal = true;
    const auto decoded = decode_trigger(encode(envelope));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->url, envelope.url);
    EXPECT_EQ(decoded->body, envelope.body);
    EXPECT_EQ(decoded->reference, envelope.reference);
    EXPECT_TRUE(decoded->terminal);

    envelope.terminal = false;
    EXPECT_FALSE(decode_trigger(encode(envelope))->terminal);
}

TEST(DeliveryEnvelope, TriggerUrlAndItsDemand) {
    // A demand URL may itself hold "jump/trigger/" (a form named so).
    const std::string demand = "https://demarches.example.org/jump/trigger/42/";
    const std::string url = trigger_url(demand, "accepte");
    EXPECT_EQ(url, demand + "jump/trigger/accepte/");
    EXPECT_EQ(demand_url_of(url), demand);
}

TEST(DeliveryEnvelope, RefusesWhatItDidNotWrite) {
    EXPECT_FALSE(decode_push(""));
    EXPECT_FALSE(decode_push("not json"));
    EXPECT_FALSE(decode_push("[]"));
    EXPECT_FALSE(decode_push(R"({"message":"aGk="})"));
    EXPECT_FALSE(decode_push(R"({"demand_url":"","message":"not base64!"})"));
    EXPECT_FALSE(decode_push(R"({"demand_url":1,"message":"aGk="})"));
    EXPECT_FALSE(decode_trigger(encode(PushEnvelope{"x", "y"})));
    EXPECT_FALSE(decode_trigger(R"({"url":"u","body":"{}","reference":"r"})"));
    EXPECT_FALSE(decode_trigger(R"({"url":"u","body":"{}","reference":"r","terminal":"yes"})"));
    EXPECT_FALSE(decode_push(encode(TriggerEnvelope{})));
}
