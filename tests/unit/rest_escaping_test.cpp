// Hostile values in the path, query, headers and JSON body of the upstream
// request: escaping is by construction, never by filtering.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "core/url_encoding.hpp"
#include "rest/text_template.hpp"
#include "rest_test_support.hpp"

using namespace relais;
using namespace relais::rest;
using namespace std::string_literals;
using namespace relais::rest::test_support;

namespace {

const std::string hundred_kb(100 * 1024, 'x');

std::unique_ptr<test_support::Loaded> path_endpoint() {
    return load_endpoint(R"({
        "parameters": {"id": {"required": true, "max_length": 65536}},
        "request": {"path": "/items/{id}/detail"}
    })");
}

std::string url_for(const test_support::Loaded& c, const std::string& name,
                    const std::string& value) {
    return prepare_ok(c, make_request("GET", {{name, value}})).url;
}

}  // namespace

TEST(RestEscaping, PathSegmentEncodesEverythingButUnreserved) {
    const auto c = path_endpoint();
    const std::string base = "http://up.test/api/items/";
    EXPECT_EQ(url_for(*c, "id", "abc-._~XYZ09"), base + "abc-._~XYZ09/detail");
    EXPECT_EQ(url_for(*c, "id", "../etc/passwd"), base + "..%2Fetc%2Fpasswd/detail");
    EXPECT_EQ(url_for(*c, "id", "%2e%2e"), base + "%252e%252e/detail");
    EXPECT_EQ(url_for(*c, "id", "a b?c#d&e=f"), base + "a%20b%3Fc%23d%26e%3Df/detail");
    EXPECT_EQ(url_for(*c, "id", "x\r\nHost: evil"), base + "x%0D%0AHost%3A%20evil/detail");
    EXPECT_EQ(url_for(*c, "id", "a\0b"s), base + "a%00b/detail");
    EXPECT_EQ(url_for(*c, "id", "\"'<>\\"), base + "%22%27%3C%3E%5C/detail");
    EXPECT_EQ(url_for(*c, "id", "{{x}}"), base + "%7B%7Bx%7D%7D/detail");
    EXPECT_EQ(url_for(*c, "id", "{id}"), base + "%7Bid%7D/detail");
    EXPECT_EQ(url_for(*c, "id", "é日"), base + "%C3%A9%E6%97%A5/detail");
    EXPECT_EQ(url_for(*c, "id", hundred_kb.substr(0, 65536)),
              base + hundred_kb.substr(0, 65536) + "/detail");
}

TEST(RestEscaping, DotSegmentsFromValuesAreRefused) {
    const auto c = path_endpoint();
    for (const char* bad : {".", ".."}) {
        const auto error = prepare_error(*c, make_request("GET", {{"id", bad}}));
        EXPECT_EQ(error.error, ErrorClass::invalid_parameter) << bad;
        EXPECT_EQ(error.description,
                  "parameter 'id' cannot make an empty, '.' or '..' path segment");
    }
    EXPECT_EQ(url_for(*c, "id", "..."), "http://up.test/api/items/.../detail");
}

TEST(RestEscaping, DotSegmentsAreCheckedOnTheWholeSegment) {
    const auto c = load_endpoint(R"({
        "parameters": {"a": {"required": true}, "b": {"required": true}},
        "request": {"path": "x/{a}{b}/y"}
    })");
    EXPECT_EQ(prepare_error(*c, make_request("GET", {{"a", "."}, {"b", "."}})).error,
              ErrorClass::invalid_parameter);
    EXPECT_EQ(prepare_ok(*c, make_request("GET", {{"a", "."}, {"b", "a"}})).url,
              "http://up.test/api/x/.a/y");
}

TEST(RestEscaping, BaseUrlWithoutTrailingSlashGetsOne) {
    const auto c = load_endpoint(R"({"request": {"path": "/v1/search"}})",
                                 R"({"base_url": "https://up.test/api"})");
    EXPECT_EQ(prepare_ok(*c, make_request("GET", {})).url, "https://up.test/api/v1/search");
    const auto bare = load_endpoint(R"({})", R"({"base_url": "https://up.test/api/list"})");
    EXPECT_EQ(prepare_ok(*bare, make_request("GET", {})).url, "https://up.test/api/list");
}

TEST(RestEscaping, QueryValuesAreFormEncodedAndAbsentOnesDropped) {
    const auto c = load_endpoint(R"({
        "parameters": {"q": {"max_length": 200000}, "zipcode": {}, "limit": {"type": "integer", "default": 5}},
        "request": {"path": "search", "query": {
            "q": "{q}", "postcode": "{zipcode}", "limit": "{limit}", "type": "street",
            "label": "{{literal}} {q}!", "a&b": "c=d"}}
    })");
    EXPECT_EQ(prepare_ok(*c, make_request("GET", {{"q", "8 bd du Port & co=1+2"}})).url,
              "http://up.test/api/search?q=8+bd+du+Port+%26+co%3D1%2B2&limit=5&type=street"
              "&label=%7Bliteral%7D+8+bd+du+Port+%26+co%3D1%2B2%21&a%26b=c%3Dd");
    EXPECT_EQ(prepare_ok(*c, make_request("GET", {{"zipcode", "75001"}})).url,
              "http://up.test/api/search?postcode=75001&limit=5&type=street&a%26b=c%3Dd");
    const std::string hostile = "\r\n\0#?/../%2e{{x}}\"é"s;
    EXPECT_EQ(
        prepare_ok(*c, make_request("GET", {{"zipcode", hostile}})).url,
        "http://up.test/api/search?postcode=%0D%0A%00%23%3F%2F..%2F%252e%7B%7Bx%7D%7D%22%C3%A9"
        "&limit=5&type=street&a%26b=c%3Dd");
    const std::string url = prepare_ok(*c, make_request("GET", {{"q", hundred_kb}})).url;
    EXPECT_NE(url.find("q=" + hundred_kb + "&"), std::string::npos);
}

TEST(RestEscaping, HeaderValuesWithControlCharactersAreRefused) {
    const auto c = load_endpoint(R"({
        "parameters": {"demand": {"required": true}, "lang": {}},
        "request": {"headers": {"X-Demand": "demand {demand}", "Accept-Language": "{lang}"}}
    })");
    const auto call = prepare_ok(*c, make_request("GET", {{"demand", "42 \"quoted\" é"}}));
    ASSERT_NE(find_header(call.headers, "X-Demand"), nullptr);
    EXPECT_EQ(*find_header(call.headers, "X-Demand"), "demand 42 \"quoted\" é");
    EXPECT_EQ(find_header(call.headers, "Accept-Language"), nullptr);
    // Static headers and X-Request-ID are added when the request is sent
    // (rest_delivery_test).
    EXPECT_EQ(find_header(call.headers, "X-Request-ID"), nullptr);
    EXPECT_EQ(find_header(call.headers, "Accept"), nullptr);
    for (const std::string& bad :
         std::vector<std::string>{"1\r\nX-Evil: 1", "1\n", "1\r", "a\0b"s, "a\tb", "a\x7f"}) {
        const auto error = prepare_error(*c, make_request("GET", {{"demand", bad}}));
        EXPECT_EQ(error.error, ErrorClass::invalid_parameter);
        EXPECT_EQ(error.description,
                  "parameter 'demand' must not contain control characters (header 'X-Demand')");
    }
}

TEST(RestEscaping, JsonBodyValuesGoThroughAJsonWriter) {
    const auto c = load_endpoint(R"({
        "method": "POST",
        "parameters": {"q": {"max_length": 200000}},
        "request": {"method": "POST", "body": {"exact": "{q}", "text": "Nom: {q}.", "lit": "{{q}}"}}
    })");
    const std::vector<std::string> hostile = {"\"}, \"admin\": true, \"x\": \"",
                                              "back\\slash",
                                              "line\r\nbreak",
                                              "nul\0byte"s,
                                              "{{x}}",
                                              "{q}",
                                              "</script>",
                                              "é日🙂",
                                              hundred_kb};
    for (const auto& value : hostile) {
        const auto call = prepare_ok(*c, make_request("POST", {{"q", value}}));
        rapidjson::Document doc;
        doc.Parse(call.body.data(), call.body.size());
        ASSERT_FALSE(doc.HasParseError()) << call.body.substr(0, 200);
        ASSERT_TRUE(doc.IsObject());
        EXPECT_EQ(doc.MemberCount(), 3u);
        EXPECT_EQ(std::string(doc["exact"].GetString(), doc["exact"].GetStringLength()), value);
        EXPECT_EQ(std::string(doc["text"].GetString(), doc["text"].GetStringLength()),
                  "Nom: " + value + ".");
        EXPECT_STREQ(doc["lit"].GetString(), "{q}");
        EXPECT_EQ(*find_header(call.headers, "Content-Type"), "application/json");
    }
}

TEST(RestEscaping, EncodersDirectly) {
    std::string out;
    append_path_segment(out, "a/b c");
    EXPECT_EQ(out, "a%2Fb%20c");
    out.clear();
    append_form_encoded(out, "a/b c+");
    EXPECT_EQ(out, "a%2Fb+c%2B");
    EXPECT_TRUE(has_control_chars("\0"s));
    EXPECT_TRUE(has_control_chars("\x1f"));
    EXPECT_FALSE(has_control_chars("é \"' ~"));
    EXPECT_TRUE(is_header_name("X-Api_Key.1"));
    EXPECT_FALSE(is_header_name("X Api"));
    EXPECT_FALSE(is_header_name("X:Api"));
    EXPECT_FALSE(is_header_name(""));
}

TEST(RestEscaping, TemplateSyntax) {
    const RefResolver resolve = [](std::string_view name) -> ValueRef {
        if (name == "a") {
            return ValueRef{ValueRef::Source::parameter, 0};
        }
        throw TemplateError("unknown");
    };
    const auto t = TextTemplate::parse("x{{y}}{a}z", resolve);
    ASSERT_EQ(t.parts().size(), 3u);
    EXPECT_EQ(t.parts()[0].literal, "x{y}");
    EXPECT_TRUE(t.parts()[1].ref);
    EXPECT_EQ(t.parts()[2].literal, "z");
    EXPECT_TRUE(TextTemplate::parse("{a}", resolve).is_single_placeholder());
    EXPECT_FALSE(TextTemplate::parse("{a} ", resolve).is_single_placeholder());
    EXPECT_THROW(TextTemplate::parse("{a", resolve), TemplateError);
    EXPECT_THROW(TextTemplate::parse("a}", resolve), TemplateError);
    EXPECT_THROW(TextTemplate::parse("{b}", resolve), TemplateError);
    EXPECT_THROW(TextTemplate::parse("{{a}", resolve), TemplateError);
}
