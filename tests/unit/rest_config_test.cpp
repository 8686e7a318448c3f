// Building REST connectors from their configuration: what is refused at
// load time, and where the error points.
#include <gtest/gtest.h>

#include <variant>

#include "rest_test_support.hpp"

using namespace relais;
using namespace relais::rest;
using namespace std::chrono_literals;
using namespace relais::rest::test_support;

namespace {

std::string connector(const std::string& endpoint,
                      const std::string& upstream = R"({"base_url": "http://up.test/"})") {
    return R"({"slug": "test", "kind": "rest", "family": "reference", "upstream": )" + upstream +
           R"(, "endpoints": {"e": )" + endpoint + "}}";
}

// The error of loading `json` must be `message`, at the line of `pointer`.
void expect_error_at(const std::string& json, const std::string& pointer,
                     const std::string& message) {
    int line = 0;
    EXPECT_EQ(load_error(json, &line), message);
    test_support::Loaded numbered;
    numbered.document.Parse(json.c_str());
    test_support::number_values(numbered.document, "", numbered);
    EXPECT_EQ(line, numbered.line_of(pointer)) << "expected the error at " << pointer;
}

}  // namespace

TEST(RestConfig, CacheTtlIsRefusedOnPersonalEndpoints) {
    expect_error_at(connector(R"({"cache_ttl": "5m"})"), "/endpoints/e/cache_ttl",
                    "cache_ttl needs 'personal_data: false': answers carrying personal data are "
                    "never stored");
    expect_error_at(connector(R"({"personal_data": true, "cache_ttl": "5m"})"),
                    "/endpoints/e/cache_ttl",
                    "cache_ttl needs 'personal_data: false': answers carrying personal data are "
                    "never stored");
    const auto ok =
        load(connector(R"({"personal_data": false, "cache_ttl": "5m", "cache_size": 10})"));
    EXPECT_EQ(ok->spec.endpoints[0].cache_ttl, 300'000ms);
    EXPECT_EQ(ok->spec.endpoints[0].cache_size, 10u);
}

TEST(RestConfig, RetriesAreRefusedOnNonIdempotentMethods) {
    for (const char* method : {"POST", "PATCH"}) {
        expect_error_at(
            connector(std::string(R"({"method": "POST", "retries": 2, "request": {"method": ")") +
                      method + R"("}})"),
            "/endpoints/e/retries",
            std::string("retries are allowed only when the upstream request is idempotent (GET, "
                        "HEAD, PUT, DELETE): a ") +
                method +
                " that failed may still have been applied, and a retry would apply it twice");
    }
    for (const char* method : {"GET", "HEAD", "PUT", "DELETE"}) {
        const auto ok = load(connector(std::string(R"({"retries": 2, "request": {"method": ")") +
                                       method + R"("}})"));
        EXPECT_EQ(ok->spec.endpoints[0].retries, 2u);
    }
    // The endpoint's own method does not matter: a GET upstream may be retried.
    EXPECT_NO_THROW(load(connector(R"({"method": "POST", "retries": 1})")));
}

TEST(RestConfig, ErrorBodyOnlyWithoutPersonalData) {
    expect_error_at(connector(R"({"error_body": true})"), "/endpoints/e/error_body",
                    "error_body needs 'personal_data: false': an upstream error body may quote "
                    "personal data");
    EXPECT_NO_THROW(load(connector(R"({"personal_data": false, "error_body": true})")));
}

TEST(RestConfig, PlaceholdersMustNameParameters) {
    expect_error_at(connector(R"({"parameters": {"id": {"required": true}},
                                  "request": {"path": "x/{nope}"}})"),
                    "/endpoints/e/request/path", "'{nope}' names no parameter (declared: id)");
    expect_error_at(connector(R"({"request": {"query": {"q": "{q}"}}})"),
                    "/endpoints/e/request/query/q", "'{q}' names no parameter (declared: none)");
    expect_error_at(
        connector(R"({"parameters": {"q": {}}, "request": {"headers": {"X-Q": "{q"}}})"),
        "/endpoints/e/request/headers/X-Q", "unclosed '{' (write '{{' for a literal brace)");
    expect_error_at(connector(R"({"method": "POST", "request": {"method": "POST",
                                  "body": {"a": [1, {"b": "{x}"}]}}})"),
                    "/endpoints/e/request/body",
                    "/a/1/b: '{x}' names no parameter (declared: none)");
}

TEST(RestConfig, PathParametersMustAlwaysHaveAValue) {
    expect_error_at(connector(R"({"parameters": {"id": {}}, "request": {"path": "x/{id}"}})"),
                    "/endpoints/e/request/path",
                    "'{id}' is in the path, so the parameter must be required or have a default");
    EXPECT_NO_THROW(load(
        connector(R"({"parameters": {"id": {"default": "a"}}, "request": {"path": "x/{id}"}})")));
}

TEST(RestConfig, PathLiteralsAreChecked) {
    expect_error_at(connector(R"({"request": {"path": "a/../b"}})"), "/endpoints/e/request/path",
                    "path: '.' and '..' segments are not allowed");
    expect_error_at(connector(R"({"request": {"path": "a?b=1"}})"), "/endpoints/e/request/path",
                    "path: character '?' is not allowed here; percent-encode it (or use a "
                    "placeholder for values)");
    expect_error_at(connector(R"({"request": {"path": "a%zz"}})"), "/endpoints/e/request/path",
                    "path: '%' must start a %XX escape");
    EXPECT_NO_THROW(load(connector(R"({"request": {"path": "a/b%20c/d:e@f;g=h"}})")));
}

TEST(RestConfig, BaseUrlIsAnHttpUrlWithoutQuery) {
    const std::string endpoint = "{}";
    expect_error_at(connector(endpoint, R"({"base_url": "ftp://up.test/"})"), "/upstream/base_url",
                    "expected an absolute http:// or https:// URL");
    expect_error_at(connector(endpoint, R"({"base_url": "http://up.test/?a=1"})"),
                    "/upstream/base_url",
                    "base_url must not have a query or a fragment: put query parameters in the "
                    "endpoints' request.query");
    expect_error_at(connector(endpoint, R"({"base_url": "http://up.test/#x"})"),
                    "/upstream/base_url",
                    "base_url must not have a query or a fragment: put query parameters in the "
                    "endpoints' request.query");
    expect_error_at(connector(endpoint, R"({"base_url": "http://user:pw@up.test/"})"),
                    "/upstream/base_url", "the URL must not carry credentials: use upstream.auth");
    expect_error_at(connector(endpoint, R"({"base_url": "http://up.test/a b"})"),
                    "/upstream/base_url", "the URL must not contain spaces or control characters");
    expect_error_at(connector(endpoint, R"({"base_url": "http://up.test:99999/"})"),
                    "/upstream/base_url", "the URL's port must be a number from 1 to 65535");
    EXPECT_NO_THROW(load(connector(endpoint, R"({"base_url": "HTTPS://up.test:8443"})")));
}

TEST(RestConfig, ParameterDeclarationsAreChecked) {
    expect_error_at(connector(R"({"parameters": {"apikey": {}}})"),
                    "/endpoints/e/parameters/apikey",
                    "'apikey' carries caller credentials and is removed from the query before the "
                    "connector sees it; choose another name");
    expect_error_at(connector(R"({"parameters": {"n": {"type": "integer", "default": "ten"}}})"),
                    "/endpoints/e/parameters/n/default", "the default must be an integer");
    expect_error_at(connector(R"({"parameters": {"s": {"pattern": "^[0-9]+$", "default": "x"}}})"),
                    "/endpoints/e/parameters/s/default", "the default does not match its pattern");
    expect_error_at(connector(R"({"parameters": {"s": {"default": ""}}})"),
                    "/endpoints/e/parameters/s/default",
                    "an empty default is the same as no default");
    expect_error_at(connector(R"({"parameters": {"s": {"required": true, "default": "x"}}})"),
                    "/endpoints/e/parameters/s/required",
                    "a parameter with a default is never missing: remove 'required' or 'default'");
    expect_error_at(connector(R"({"parameters": {"s": {"minimum": 1}}})"),
                    "/endpoints/e/parameters/s/minimum",
                    "minimum applies to integer and number parameters only");
    expect_error_at(
        connector(R"({"parameters": {"n": {"type": "number", "minimum": 2, "maximum": 1}}})"),
        "/endpoints/e/parameters/n", "minimum is greater than maximum");
    expect_error_at(
        connector(R"({"parameters": {"n": {"type": "integer", "maximum": 9999999999999999}}})"),
        "/endpoints/e/parameters/n/maximum",
        "maximum of an integer parameter must lie within -9007199254740991 and "
        "9007199254740991 (2^53 - 1)");
    EXPECT_NO_THROW(load(connector(
        R"({"parameters": {"n": {"type": "integer", "minimum": -9007199254740991,
                                 "maximum": 9007199254740991}}})")));
    int line = 0;
    EXPECT_EQ(load_error(connector(R"({"parameters": {"s": {"pattern": "([a-z"}}})"), &line)
                  .rfind("pattern is not a regular expression relais can run (RE2 syntax: ", 0),
              0u);
    const auto ok = load(connector(R"({"parameters": {"n": {"type": "number", "default": 1.5},
                                                       "b": {"type": "boolean", "default": false}}})"));
    EXPECT_EQ(ok->spec.endpoints[0].parameters[0].default_value->number, 1.5);
    EXPECT_FALSE(ok->spec.endpoints[0].parameters[1].default_value->boolean);
}

TEST(RestConfig, NamesAreChecked) {
    expect_error_at(R"({"slug": "t", "kind": "rest", "family": "reference",
        "upstream": {"base_url": "http://up.test/"}, "endpoints": {"Search": {}}})",
                    "/endpoints/Search",
                    "'Search' is not a valid endpoint name (lower-case letters, digits, '_' and "
                    "'-', starting with a letter or digit)");
    expect_error_at(connector(R"({"parameters": {"a{b}": {}}})"), "/endpoints/e/parameters/a{b}",
                    "'a{b}' is not a valid parameter name (letters, digits, '_', '.' and '-', "
                    "starting with a letter or '_', at most 64 characters)");
    expect_error_at(connector(R"({"request": {"headers": {"Bad Name": "x"}}})"),
                    "/endpoints/e/request/headers/Bad Name",
                    "'Bad Name' is not a valid header name");
    EXPECT_NO_THROW(
        load(connector(R"({"parameters": {"page_limit": {}, "filter.name-x": {}, "_x": {}}})")));
}

TEST(RestConfig, BodySchemasTheValidatorWouldMishandleAreRefused) {
    const auto schema = [](const std::string& body_schema) {
        return connector(R"({"method": "POST", "body_schema": )" + body_schema + "}");
    };
    const std::string loop = "this $ref leads back to itself through $refs alone";
    // Each of these crashed relais (the validator recursed without end).
    expect_error_at(schema(R"({"$ref": "#"})"), "/endpoints/e/body_schema/$ref", loop);
    expect_error_at(
        schema(R"({"$ref": "#/definitions/a", "definitions": {"a": {"$ref": "#/definitions/b"},
                                                                         "b": {"$ref": "#/definitions/a"}}})"),
        "/endpoints/e/body_schema/$ref", loop);
    expect_error_at(schema(R"({"properties": {"x": {"$ref": "#/properties/x"}}})"),
                    "/endpoints/e/body_schema/properties/x/$ref", loop);
    // Each of these let anything through.
    const std::string nowhere = "$ref must lead to a place in this schema (#/…)";
    expect_error_at(schema(R"({"properties": {"code": {"$ref": "#/definitions/Code"}},
                                "definitions": {"code": {"type": "string"}}})"),
                    "/endpoints/e/body_schema/properties/code/$ref", nowhere);
    expect_error_at(schema(R"({"$ref": "other.json#/a"})"), "/endpoints/e/body_schema/$ref",
                    nowhere);
    for (const char* pattern : {R"(^\\d{4}$)", R"(^\\w+$)", R"(^(?:a|b)$)"}) {
        expect_error_at(
            schema(std::string(R"({"properties": {"d": {"type": "string", "pattern": ")") +
                   pattern + R"("}}})"),
            "/endpoints/e/body_schema/properties/d/pattern",
            "this pattern is not one the schema validator can run (RapidJSON's regular "
            "expressions: no \\d, \\w, \\s, (?:; write [0-9], [A-Za-z0-9_], a group)");
    }
    expect_error_at(schema(R"({"patternProperties": {"^\\d+$": {}}})"),
                    "/endpoints/e/body_schema/patternProperties",
                    "this pattern is not one the schema validator can run (RapidJSON's regular "
                    "expressions: no \\d, \\w, \\s, (?:; write [0-9], [A-Za-z0-9_], a group)");
    // Recursion through a keyword is a schema, not a loop; data is not checked.
    EXPECT_NO_THROW(
        load(schema(R"({"properties": {"$ref": {"type": "string"}, "child": {"$ref": "#"},
                                                   "kind": {"enum": [{"$ref": "#/x"}]},
                                                   "d": {"pattern": "^[0-9]{4}$"}},
                                   "default": {"pattern": "\\d"}})")));
}

TEST(RestConfig, BodiesNeedMethodsThatCarryThem) {
    expect_error_at(
        connector(R"({"body_schema": {"type": "object"}})"), "/endpoints/e/body_schema",
        "an endpoint called with GET receives no body: set method to POST, PUT or PATCH");
    expect_error_at(connector(R"({"request": {"query": {"a": "{body:/a}"}}})"),
                    "/endpoints/e/request/query/a",
                    "'{body:/a}': the endpoint is called with GET, which has no body");
    expect_error_at(connector(R"({"method": "POST", "request": {"body": {"a": 1}}})"),
                    "/endpoints/e/request/body",
                    "a GET request carries no body: use POST, PUT or PATCH");
    expect_error_at(
        connector(R"({"method": "POST", "request": {"method": "POST", "body": "{body:x}"}})"),
        "/endpoints/e/request/body", "/: 'x' is not a JSON Pointer (it must start with '/')");
}

TEST(RestConfig, HeadersAreChecked) {
    expect_error_at(connector(R"({"request": {"headers": {"Host": "evil"}}})"),
                    "/endpoints/e/request/headers/Host", "header 'Host' is set by relais");
    expect_error_at(
        connector("{}", R"({"base_url": "http://up.test/", "headers": {"X-Request-ID": "1"}})"),
        "/upstream/headers/X-Request-ID", "header 'X-Request-ID' is set by relais");
    expect_error_at(
        connector("{}", R"({"base_url": "http://up.test/", "auth": {"bearer": {"token": "t"}},
                                       "headers": {"authorization": "x"}})"),
        "/upstream/headers/authorization",
        "the Authorization header comes from upstream.auth; remove one of them");
    const auto ok = load(connector(
        "{}", R"({"base_url": "http://up.test/", "headers": {"accept": "text/json", "X-N": 3}})"));
    ASSERT_EQ(ok->spec.upstream.headers.size(), 2u);
    EXPECT_EQ(ok->spec.upstream.headers[1].value, "3");
}

TEST(RestConfig, ResponsePointersAreChecked) {
    expect_error_at(connector(R"({"response": {"data": "features"}})"),
                    "/endpoints/e/response/data",
                    "'features' is not a JSON Pointer (it must start with '/')");
    expect_error_at(connector(R"({"response": {"fields": {"id": "/a~x"}}})"),
                    "/endpoints/e/response/fields/id", "'/a~x' is not a valid JSON Pointer");
}

TEST(RestConfig, AuthVariants) {
    auto auth_of = [](const std::string& auth) {
        return load(connector("{}", R"({"base_url": "https://up.test/", "auth": )" + auth + "}"))
            ->spec.upstream.auth;
    };
    const auto bearer = auth_of(R"({"bearer": {"token": "t0k"}})");
    ASSERT_TRUE(std::holds_alternative<upstream::BearerAuth>(bearer));
    EXPECT_EQ(std::get<upstream::BearerAuth>(bearer).token, "t0k");
    const auto basic = auth_of(R"({"basic": {"username": "u", "password": "p"}})");
    EXPECT_EQ(std::get<upstream::BasicAuth>(basic).password, "p");
    const auto key = auth_of(R"({"api_key": {"header": "X-API-Key", "value": "k"}})");
    EXPECT_EQ(std::get<upstream::ApiKeyHeaderAuth>(key).header, "X-API-Key");
    const auto oauth = auth_of(
        R"({"oauth2": {"token_url": "https://id.test/token", "client_id": "c", "client_secret": "s", "scope": "read"}})");
    EXPECT_EQ(std::get<upstream::OAuth2ClientCredentials>(oauth).scope, "read");
    EXPECT_TRUE(
        std::holds_alternative<upstream::NoAuth>(load(connector("{}"))->spec.upstream.auth));
    expect_error_at(
        connector("{}",
                  R"({"base_url": "http://up.test/", "auth": {"bearer": {"token": "a\nb"}}})"),
        "/upstream/auth/bearer/token", "must not contain control characters (a trailing newline?)");
}

TEST(RestConfig, TlsFilesMustBeReadable) {
    expect_error_at(
        connector(
            "{}",
            R"({"base_url": "https://up.test/", "tls": {"client_cert": "/nonexistent.pem"}})"),
        "/upstream/tls", "client_cert and client_key go together");
    int line = 0;
    EXPECT_EQ(
        load_error(
            connector(
                "{}",
                R"({"base_url": "https://up.test/", "tls": {"ca_file": "/nonexistent/ca.pem"}})"),
            &line),
        "cannot read file '/nonexistent/ca.pem'");
}

TEST(RestConfig, TimeoutsAndDefaults) {
    const auto c = load(connector(
        R"({"description": "d"})",
        R"({"base_url": "http://up.test/", "timeout": "2s", "connect_timeout": "250ms"})"));
    const EndpointSpec& e = c->spec.endpoints[0];
    EXPECT_EQ(e.timeout, 2000ms);
    EXPECT_EQ(c->spec.upstream.connect_timeout, 250ms);
    EXPECT_EQ(e.method, "GET");
    EXPECT_EQ(e.upstream_method, "GET");
    EXPECT_TRUE(e.personal_data);
    EXPECT_EQ(e.retries, 0u);
    EXPECT_FALSE(e.cache_ttl);
    EXPECT_EQ(load(connector(R"({"timeout": "750ms"})"))->spec.endpoints[0].timeout, 750ms);
    EXPECT_EQ(load(connector("{}"))->spec.endpoints[0].timeout, 30'000ms);
    expect_error_at(connector(R"({"timeout": "0s"})"), "/endpoints/e/timeout",
                    "expected a duration such as 500ms, 10s or 5m, greater than zero");
}

TEST(RestConfig, EndpointsKeepTheirOrder) {
    const auto c = load(R"({"slug": "t", "kind": "rest", "family": "reference",
        "upstream": {"base_url": "http://up.test/"},
        "endpoints": {"zeta": {}, "alpha": {}, "mid": {}}})");
    ASSERT_EQ(c->spec.endpoints.size(), 3u);
    EXPECT_EQ(c->spec.endpoints[0].name, "zeta");
    EXPECT_EQ(c->spec.endpoints[2].name, "mid");
}

TEST(RestConfig, CallsWithTheWrongMethodOrAPathRest) {
    const auto c = load_endpoint(R"({"method": "POST"})");
    auto error = prepare_error(*c, make_request("GET", {}));
    EXPECT_EQ(error.error, ErrorClass::method_not_allowed);
    EXPECT_EQ(error.description, "this endpoint is called with POST");
    auto request = make_request("POST", {});
    request.rest = "extra/path";
    error = prepare_error(*c, request);
    EXPECT_EQ(error.error, ErrorClass::not_found);
}
