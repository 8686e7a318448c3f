// JSON from outside relais: no depth exhausts the stack, UTF-8 is checked.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>

#include "core/json.hpp"

namespace relais {
namespace {

TEST(CoreJson, ParsesObjects) {
    rapidjson::Document doc;
    ASSERT_TRUE(parse_untrusted_json(R"({"id":"PC-1","n":[1,2]})", doc));
    EXPECT_STREQ(doc["id"].GetString(), "PC-1");
}

std::string nested(std::size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
}

TEST(CoreJson, NestingIsCappedWithoutExhaustingTheStack) {
    rapidjson::Document doc;
    EXPECT_TRUE(parse_untrusted_json(nested(max_json_depth), doc));
    EXPECT_FALSE(parse_untrusted_json(nested(max_json_depth + 1), doc));
    EXPECT_FALSE(parse_untrusted_json(R"({"a":)" + nested(max_json_depth) + "}", doc));
    // A recursive parser would need far more stack than a thread has.
    EXPECT_FALSE(parse_untrusted_json(nested(1'000'000), doc));
    EXPECT_FALSE(parse_untrusted_json(std::string(1'000'000, '['), doc));
}

TEST(CoreJson, RefusesBrokenTextTrailingTextAndBadUtf8) {
    rapidjson::Document doc;
    EXPECT_FALSE(parse_untrusted_json(R"({"a":)", doc));
    EXPECT_FALSE(parse_untrusted_json(R"({"a":1} trailing)", doc));
    EXPECT_FALSE(parse_untrusted_json("{\"a\":\"\xff\xfe\"}", doc));
    EXPECT_FALSE(parse_untrusted_json("", doc));
}

TEST(CoreJson, RefusesNulBytesWhereverTheyAre) {
    using namespace std::string_view_literals;
    rapidjson::Document doc;
    EXPECT_FALSE(parse_untrusted_json("{\"a\":1}\0 garbage\"}]"sv, doc));
    EXPECT_FALSE(parse_untrusted_json("{\"a\":\"x\0y\"}"sv, doc));
    EXPECT_FALSE(parse_untrusted_json("\0"sv, doc));
    EXPECT_TRUE(parse_untrusted_json(R"({"a":"\u0000"})", doc));
}

TEST(CoreJson, ChecksAnObjectWithoutBuildingIt) {
    using namespace std::string_view_literals;
    EXPECT_TRUE(is_untrusted_json_object(R"({"id":"PC-1","n":[1,{"x":null}]})"));
    EXPECT_TRUE(is_untrusted_json_object(" \n{} "));
    EXPECT_TRUE(is_untrusted_json_object(R"({"a":)" + nested(max_json_depth - 1) + "}"));
    EXPECT_FALSE(is_untrusted_json_object(R"({"a":)" + nested(max_json_depth) + "}"));
    EXPECT_FALSE(is_untrusted_json_object(R"({"a":)" + nested(100'000) + "}"));
    for (const std::string_view bad :
         {""sv, "[]"sv, "\"x\""sv, "{"sv, R"({} trailing)"sv, R"({}, "context": {})"sv,
          "{\"a\":\"\xff\"}"sv, "{\"a\":\"x\0y\"}"sv, "{}\0"sv}) {
        EXPECT_FALSE(is_untrusted_json_object(bad)) << bad;
    }
}

}  // namespace
}  // namespace relais
