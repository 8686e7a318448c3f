// The JSON body template: typed values, body pointers, absent values.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "rest_test_support.hpp"

using namespace relais;
using namespace relais::rest;
using namespace std::string_literals;
using namespace relais::rest::test_support;

namespace {

std::unique_ptr<test_support::Loaded> typed_endpoint() {
    return load_endpoint(R"({
        "method": "POST",
        "parameters": {
            "s": {}, "i": {"type": "integer"}, "n": {"type": "number"}, "b": {"type": "boolean"},
            "d": {"type": "integer", "default": 3}
        },
        "body_schema": {"type": "object"},
        "request": {"method": "PUT", "body": {
            "s": "{s}", "i": "{i}", "n": "{n}", "b": "{b}", "d": "{d}",
            "text": "i={i} n={n} b={b}",
            "list": ["{i}", "{s}", 1, "const"],
            "nested": {"fixed": [true, null, 2.5], "deep": {"x": "{{not a placeholder}}"}},
            "nom": "{body:/identity/last_name}",
            "first": "{body:/identity/first_names/0}",
            "whole": "{body:/}",
            "greeting": "Bonjour {body:/identity/last_name}"
        }}
    })");
}

}  // namespace

TEST(RestJsonTemplate, WholePlaceholdersKeepTheirType) {
    const auto c = typed_endpoint();
    const auto call = prepare_ok(
        *c,
        make_request("POST", {{"s", "x"}, {"i", "007"}, {"n", "2.50"}, {"b", "1"}},
                     R"({"identity": {"last_name": "Dupont", "first_names": ["Jean", "Paul"]}})"));
    EXPECT_EQ(call.body,
              R"({"s":"x","i":7,"n":2.5,"b":true,"d":3,"text":"i=7 n=2.5 b=true",)"
              R"("list":[7,"x",1,"const"],"nested":{"fixed":[true,null,2.5],)"
              R"("deep":{"x":"{not a placeholder}"}},"nom":"Dupont","first":"Jean",)"
              R"("whole":{"identity":{"last_name":"Dupont","first_names":["Jean","Paul"]}},)"
              R"("greeting":"Bonjour Dupont"})");
}

TEST(RestJsonTemplate, AbsentValuesDropMembersAndNullArrayItems) {
    const auto c = typed_endpoint();
    const auto call = prepare_ok(*c, make_request("POST", {}, R"({})"));
    EXPECT_EQ(call.body, R"({"d":3,"list":[null,null,1,"const"],"nested":{"fixed":[true,null,2.5],)"
                         R"("deep":{"x":"{not a placeholder}"}},"whole":{}})");
}

TEST(RestJsonTemplate, BodyValuesAreCopiedAsJson) {
    const auto c = load_endpoint(R"({
        "method": "POST",
        "request": {"method": "POST", "body": {"nom": "{body:/identity/last_name}"}}
    })");
    const auto call = prepare_ok(
        *c,
        make_request("POST", {}, R"({"identity": {"last_name": {"a": [1, "\"x\"", "\u0000"]}}})"));
    rapidjson::Document doc;
    doc.Parse(call.body.c_str());
    ASSERT_FALSE(doc.HasParseError());
    EXPECT_TRUE(doc["nom"].IsObject());
    EXPECT_STREQ(doc["nom"]["a"][1].GetString(), "\"x\"");
    EXPECT_EQ(doc["nom"]["a"][2].GetStringLength(), 1u);
}

TEST(RestJsonTemplate, ObjectInsideATextIsInvalidBody) {
    const auto c = typed_endpoint();
    const auto error =
        prepare_error(*c, make_request("POST", {}, R"({"identity": {"last_name": [1]}})"));
    EXPECT_EQ(error.error, ErrorClass::invalid_body);
    EXPECT_EQ(error.description,
              "body value at /identity/last_name must be a string, a number or a boolean");
}

TEST(RestJsonTemplate, BodyMustBeJson) {
    const auto c = typed_endpoint();
    for (const std::string& bad : std::vector<std::string>{"", "{", "nom=Dupont", "{\"a\":1} x",
                                                           "{\"a\":\"\xff\"}", "{\"a\":1}\0{"s}) {
        const auto error = prepare_error(*c, make_request("POST", {}, bad));
        EXPECT_EQ(error.error, ErrorClass::invalid_json) << bad;
    }
    const auto deep = prepare_error(
        *c, make_request("POST", {}, std::string(5000, '[') + std::string(5000, ']')));
    EXPECT_EQ(deep.error, ErrorClass::invalid_json);
    EXPECT_EQ(deep.description, "the body nests deeper than 128 levels");
}

TEST(RestJsonTemplate, BodySchemaFailureNamesKeywordAndPlace) {
    const auto c = load_endpoint(R"({
        "method": "POST",
        "body_schema": {
            "type": "object", "required": ["last_name"],
            "properties": {"last_name": {"type": "string", "minLength": 1},
                           "birth_date": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}}
        },
        "request": {"method": "POST", "body": "{body:/}"}
    })");
    EXPECT_EQ(prepare_ok(*c, make_request("POST", {}, R"({"last_name": "Dupont"})")).body,
              R"({"last_name":"Dupont"})");
    auto error = prepare_error(*c, make_request("POST", {}, R"({"first_name": "Jean"})"));
    EXPECT_EQ(error.error, ErrorClass::invalid_body);
    EXPECT_EQ(error.description,
              "the body does not match its schema: 'required' failed at the root");
    error = prepare_error(
        *c, make_request("POST", {}, R"({"last_name": "Dupont", "birth_date": "CANARY"})"));
    EXPECT_EQ(error.description,
              "the body does not match its schema: 'pattern' failed at /birth_date");
    error = prepare_error(*c, make_request("POST", {}, R"({"last_name": 12})"));
    EXPECT_EQ(error.description, "the body does not match its schema: 'type' failed at /last_name");
    EXPECT_EQ(prepare_error(*c, make_request("POST", {}, R"({"last_name": )")).error,
              ErrorClass::invalid_json);
    // Not JSON, even after a value the schema refuses: invalid_json.
    for (const char* broken : {R"({"last_name": 5, garbage)", "[1,2"}) {
        EXPECT_EQ(prepare_error(*c, make_request("POST", {}, broken)).error,
                  ErrorClass::invalid_json)
            << broken;
    }
    // RapidJSON's patterns stop reading at U+0000: what follows would pass.
    error = prepare_error(
        *c, make_request("POST", {},
                         R"({"last_name": "Dupont", "birth_date": "1990-01-02\u0000<b>"})"));
    EXPECT_EQ(error.error, ErrorClass::invalid_body);
    EXPECT_EQ(error.description, "a string of the body holds U+0000");
}

TEST(RestJsonTemplate, PatternPropertiesWithNoAdditionalPropertiesDoNotCrash) {
    // RapidJSON 1.1.0 crashes on this combination unless relais rewrites it.
    const auto c = load_endpoint(R"({
        "method": "POST",
        "body_schema": {"type": "object", "properties": {"children": {
            "type": "object",
            "patternProperties": {"^[a-z]+$": {"type": "object", "properties": {"age": {"type": "integer"}},
                                               "additionalProperties": false}},
            "additionalProperties": false}}}
    })");
    EXPECT_FALSE(
        prepare_ok(*c, make_request("POST", {}, R"({"children": {"ab": {"age": 3}, "cd": {}}})"))
            .url.empty());
    EXPECT_EQ(
        prepare_error(*c, make_request("POST", {}, R"({"children": {"ab": {"age": "x"}}})")).error,
        ErrorClass::invalid_body);
    EXPECT_EQ(prepare_error(*c, make_request("POST", {}, R"({"children": {"AB": {}}})")).error,
              ErrorClass::invalid_body);
}

TEST(RestJsonTemplate, BodyIsIgnoredWhenTheEndpointDoesNotUseIt) {
    const auto c = load_endpoint(R"({"method": "POST"})");
    EXPECT_EQ(prepare_ok(*c, make_request("POST", {}, "not json")).body, "");
}

TEST(RestJsonTemplate, ScalarRootTemplate) {
    const auto c = load_endpoint(R"({
        "method": "POST", "parameters": {"n": {"type": "number"}},
        "request": {"method": "POST", "body": "{n}"}
    })");
    EXPECT_EQ(prepare_ok(*c, make_request("POST", {{"n", "-1.5"}})).body, "-1.5");
    EXPECT_EQ(prepare_ok(*c, make_request("POST", {})).body, "null");
}
