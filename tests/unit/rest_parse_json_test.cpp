// parse_json's own UTF-8 check and depth limit, which replace RapidJSON's
// encoding validation and a separate pass over the text.

#include <gtest/gtest.h>
#include <rapidjson/document.h>

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
        ASSERT_TRUE(parse_json(quoted(text), doc)) << text;
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
        EXPECT_FALSE(parse_json(quoted(text), doc)) << testing::PrintToString(text);
    }
    rapidjson::Document doc;
    EXPECT_FALSE(parse_json("\"\xE2\x82", doc));
}

TEST(RestParseJson, DepthIsCheckedWhileParsing) {
    rapidjson::Document doc;
    const std::string at_limit =
        std::string(max_json_depth, '[') + std::string(max_json_depth, ']');
    EXPECT_TRUE(parse_json(at_limit, doc));
    const std::string over =
        std::string(max_json_depth + 1, '[') + std::string(max_json_depth + 1, ']');
    EXPECT_FALSE(parse_json(over, doc));
    // Brackets inside strings do not count.
    EXPECT_TRUE(parse_json("[\"" + std::string(500, '[') + "\"]", doc));
}

}  // namespace
}  // namespace relais::rest
