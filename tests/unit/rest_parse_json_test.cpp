// parse_json's own UTF-8 check and depth limit, which replace RapidJSON's
// encoding validation and a separate pass over the text.

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <vector>

#include "rest/body_json.hpp"

namespace relais::rest {
namespace {

std::string quoted(const std::string& text) {
    return "{\"long ascii prefix\": \"" + text + "\"}";
}

TEST(RestParseJson, WellFormedUtf8IsAccepted) {
    for (const std::string& text : std::vector<std::string>{
             "plain", "caf\xC3\xA9", "\xE2\x82\xAC 5", "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF",
             "\xEF\xBF\xBD", std::string(20, 'a') + "\xC3\xA9" + std::string(20, 'b')}) {
        rapidjson::Document doc;
        std::string json = quoted(text);
        ASSERT_TRUE(parse_json(json, doc)) << text;
        EXPECT_EQ(std::string(doc["long ascii prefix"].GetString()), text);
    }
}

TEST(RestParseJson, MalformedUtf8IsRefused) {
    for (const std::string& text : std::vector<std::string>{
             "\xC0\xAF",          // overlong '/'
             "\xE0\x80\xAF",      // overlong, three bytes
             "\xED\xA0\x80",      // UTF-16 surrogate
             "\xF4\x90\x80\x80",  // above U+10FFFF
             "\xF8\x88\x80\x80\x80",
             "\xE2\x82",  // truncated
             "\x80",      // continuation without a lead
             "\xC3\x28",  // lead without a continuation
         }) {
        rapidjson::Document doc;
        std::string json = quoted(text);
        EXPECT_FALSE(parse_json(json, doc)) << testing::PrintToString(text);
    }
    rapidjson::Document doc;
    std::string truncated = "\"\xE2\x82";
    EXPECT_FALSE(parse_json(truncated, doc));
}

TEST(RestParseJson, DepthIsCheckedWhileParsing) {
    rapidjson::Document doc;
    std::string at_limit = std::string(max_json_depth, '[') + std::string(max_json_depth, ']');
    EXPECT_TRUE(parse_json(at_limit, doc));
    std::string over = std::string(max_json_depth + 1, '[') + std::string(max_json_depth + 1, ']');
    EXPECT_FALSE(parse_json(over, doc));
    // Brackets inside strings do not count.
    std::string in_string = "[\"" + std::string(500, '[') + "\"]";
    EXPECT_TRUE(parse_json(in_string, doc));
}

TEST(RestParseJson, NumbersAreReadExactlyOrRefused) {
    rapidjson::Document doc;
    std::string json = R"({"a":18446744073709551615,"b":-1.5e1,"c":[-9223372036854775808,0]})";
    ASSERT_TRUE(parse_json(json, doc));
    EXPECT_EQ(doc["a"].GetUint64(), 18446744073709551615U);
    EXPECT_EQ(doc["b"].GetDouble(), -15.0);
    EXPECT_EQ(doc["c"][0].GetInt64(), INT64_MIN);
    EXPECT_EQ(doc["c"][1].GetInt(), 0);
    std::string over = R"({"a":[1,18446744073709551616]})";
    EXPECT_EQ(parse_json(over, doc).fault, JsonFault::inexact_number);
}

TEST(RestParseJson, StringsAreDecodedInPlace) {
    rapidjson::Document doc;
    std::string json = R"({"k\u00e9y": ["a\nb", "caf\u00e9", "x\"y"]})";
    ASSERT_TRUE(parse_json(json, doc));
    const rapidjson::Value& values = doc["k\xC3\xA9y"];
    ASSERT_TRUE(values.IsArray());
    EXPECT_EQ(std::string(values[0].GetString(), values[0].GetStringLength()), "a\nb");
    EXPECT_EQ(std::string(values[1].GetString()), "caf\xC3\xA9");
    EXPECT_EQ(std::string(values[2].GetString()), "x\"y");
    // The values are views into the text, not copies.
    EXPECT_GE(values[1].GetString(), json.data());
    EXPECT_LT(values[1].GetString(), json.data() + json.size());
}

TEST(RestParseJson, NulBytesAndTrailingTextAreRefused) {
    rapidjson::Document doc;
    std::string nul = std::string("{\"a\": 1}") + '\0' + "garbage";
    EXPECT_FALSE(parse_json(nul, doc));
    std::string trailing = "{\"a\": 1} {}";
    EXPECT_FALSE(parse_json(trailing, doc));
}

}  // namespace
}  // namespace relais::rest
