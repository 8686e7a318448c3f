// JSON from outside relais: no depth exhausts the stack, UTF-8 is checked.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <string_view>

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

std::string written(const rapidjson::Value& value) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    value.Accept(writer);
    return {buffer.GetString(), buffer.GetSize()};
}

TEST(CoreJson, NestingIsCappedWithoutExhaustingTheStack) {
    rapidjson::Document doc;
    EXPECT_TRUE(parse_untrusted_json(nested(max_json_depth), doc));
    EXPECT_EQ(parse_untrusted_json(nested(max_json_depth + 1), doc).fault, JsonFault::too_deep);
    EXPECT_TRUE(doc.IsNull());
    EXPECT_FALSE(parse_untrusted_json(R"({"a":)" + nested(max_json_depth) + "}", doc));
    // A recursive parser would need far more stack than a thread has.
    EXPECT_FALSE(parse_untrusted_json(nested(1'000'000), doc));
    EXPECT_FALSE(parse_untrusted_json(std::string(1'000'000, '['), doc));
}

TEST(CoreJson, RefusesBrokenTextTrailingTextAndBadUtf8) {
    rapidjson::Document doc;
    EXPECT_EQ(parse_untrusted_json(R"({"a":)", doc).fault, JsonFault::not_json);
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

TEST(CoreJson, IntegersAreReadExactlyOver64Bits) {
    rapidjson::Document doc;
    const std::string_view text =
        "[0,-0,7,-7,4294967295,4294967296,-2147483648,-2147483649,9007199254740993,"
        "9223372036854775807,-9223372036854775808,9223372036854775808,18446744073709551615]";
    ASSERT_TRUE(parse_untrusted_json(text, doc));
    EXPECT_EQ(written(doc),
              "[0,0,7,-7,4294967295,4294967296,-2147483648,-2147483649,"
              "9007199254740993,9223372036854775807,-9223372036854775808,"
              "9223372036854775808,18446744073709551615]");
    // The document's types are those RapidJSON's own parse gives.
    rapidjson::Document plain;
    plain.Parse(text.data(), text.size());
    ASSERT_EQ(doc.Size(), plain.Size());
    for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
        EXPECT_EQ(doc[i], plain[i]) << i;
        EXPECT_EQ(doc[i].IsInt(), plain[i].IsInt()) << i;
        EXPECT_EQ(doc[i].IsUint(), plain[i].IsUint()) << i;
        EXPECT_EQ(doc[i].IsInt64(), plain[i].IsInt64()) << i;
        EXPECT_EQ(doc[i].IsUint64(), plain[i].IsUint64()) << i;
        EXPECT_FALSE(doc[i].IsDouble()) << i;
    }
}

TEST(CoreJson, DecimalsAreTheNearestDouble) {
    const std::string_view text =
        "[0.1,-0.0,1e2,1E-2,2.5e+3,0.30000000000000004,1.7976931348623157e308,4.9e-324,"
        "3.14159265358979323846264338327950288,123456789012345678901234.5]";
    rapidjson::Document doc;
    ASSERT_TRUE(parse_untrusted_json(text, doc));
    rapidjson::Document exact;
    exact.Parse<rapidjson::kParseFullPrecisionFlag>(text.data(), text.size());
    EXPECT_EQ(written(doc), written(exact));
    EXPECT_EQ(doc[9].GetDouble(), 123456789012345678901234.5);
    // RapidJSON's default conversion is one unit off for the last one.
    rapidjson::Document plain;
    plain.Parse(text.data(), text.size());
    EXPECT_NE(plain[9].GetDouble(), 123456789012345678901234.5);
}

TEST(CoreJson, DecimalsTooSmallForADoubleAreZeroTheNearest) {
    rapidjson::Document doc;
    ASSERT_TRUE(parse_untrusted_json(
        "[1e-400,-1e-400,2.47e-324,3e-324,0.00000000001e-320,123e-999999999999]", doc));
    EXPECT_EQ(written(doc), "[0.0,-0.0,0.0,5e-324,0.0,0.0]");
}

TEST(CoreJson, NumbersADoubleOrA64BitIntegerCannotHoldAreRefusedNotRounded) {
    using namespace std::string_view_literals;
    for (const std::string_view number :
         {"18446744073709551616"sv, "-9223372036854775809"sv, "123456789012345678901234567890"sv,
          "1e400"sv, "-1e400"sv, "1.8e308"sv, "0.001e312"sv, "123e307"sv}) {
        const std::string text = R"({"id":)" + std::string(number) + "}";
        rapidjson::Document doc;
        EXPECT_EQ(parse_untrusted_json(text, doc).fault, JsonFault::inexact_number) << number;
        EXPECT_TRUE(doc.IsNull()) << number;
        EXPECT_FALSE(is_untrusted_json_object(text)) << number;
        // RapidJSON alone would round the integers to a double.
        if (number.find('e') == std::string_view::npos) {
            rapidjson::Document plain;
            plain.Parse(text.data(), text.size());
            EXPECT_TRUE(plain["id"].IsDouble()) << number;
        }
    }
}

TEST(CoreJson, ReadOnlyParsesKeepLongIntegersAsTheirDigits) {
    rapidjson::Document doc;
    ASSERT_TRUE(parse_untrusted_json(R"({"id":-123456789012345678901234,"n":7})", doc,
                                     InexactNumbers::as_text));
    EXPECT_STREQ(doc["id"].GetString(), "-123456789012345678901234");
    EXPECT_EQ(doc["n"].GetInt(), 7);
    // Only integers: a decimal too large for a double is no identifier.
    for (const char* text : {"[1e400]", "[1.8e308]"}) {
        EXPECT_EQ(parse_untrusted_json(text, doc, InexactNumbers::as_text).fault,
                  JsonFault::inexact_number)
            << text;
    }
}

TEST(CoreJson, FaultsAreDescribedWithoutTheText) {
    rapidjson::Document doc;
    EXPECT_EQ(parse_untrusted_object("[1]", doc).fault, JsonFault::not_object);
    EXPECT_EQ(parse_untrusted_object("{", doc).fault, JsonFault::not_object);
    EXPECT_EQ(parse_untrusted_object(R"({"n":1e999})", doc).fault, JsonFault::inexact_number);
    EXPECT_TRUE(parse_untrusted_object(R"({"n":1})", doc));
    EXPECT_EQ(describe(JsonFault::not_json, "the body"), "the body is not valid JSON");
    EXPECT_EQ(describe(JsonFault::not_object, "the call"), "the call must be a JSON object");
    EXPECT_EQ(describe(JsonFault::too_deep, "the body"), "the body nests deeper than 128 levels");
    EXPECT_EQ(describe(JsonFault::inexact_number, "the report"),
              "the report holds a number relais would have to round (an integer outside 64 "
              "bits, or beyond a double's range): send it as a string");
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
