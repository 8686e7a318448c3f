// Async REST endpoints: what is refused at load time (and where the error
// points in the YAML), prepare_push refusing exactly what a synchronous call
// refuses, and handle() refusing an async endpoint. Delivery is in
// rest_delivery_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "config/config_document.hpp"
#include "config/config_schema.hpp"
#include "rest_test_support.hpp"
#include "upstream_test_support.hpp"

using namespace relais;
using namespace relais::rest;
using namespace relais::rest::test_support;
using relais::upstream::testing::run_on;

namespace {

// A connector with one async endpoint `push`; `extra` lines are added to the
// endpoint (indented by 4), `upstream_extra` to the upstream (indented by 2).
std::string async_yaml(const std::string& extra, const std::string& upstream_extra = "",
                       const std::string& request_extra = "") {
    return "slug: t\n"
           "kind: rest\n"
           "family: reference\n"
           "upstream:\n"
           "  base_url: \"http://up.test/api/\"\n" +
           upstream_extra +
           "endpoints:\n"
           "  push:\n"
           "    async: true\n"
           "    parameters:\n"
           "      id: {required: true}\n"
           "    request:\n"
           "      method: POST\n" +
           request_extra + extra;
}

const config::ConfigSchema& rest_schema() {
    static const config::ConfigSchema schema([] {
        std::ifstream in(RELAIS_SOURCE_DIR "/schemas/rest.schema.json");
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }());
    return schema;
}

// The first error of schema validation then loading, as printed
// (file:line:column: message), or "" if the connector loads.
std::string yaml_error(const std::string& yaml) {
    try {
        const auto doc = config::parse_yaml(yaml, "test.yaml", ".");
        const auto errors = rest_schema().validate(doc);
        if (!errors.empty()) {
            return errors.front().what();
        }
        load_connector_spec(ConnectorSource{doc.json, doc.values, "t", "rest", "reference", {}});
    } catch (const ConfigError& e) {
        return e.what();
    }
    return {};
}

// "line:column" (1-based) of the first `target` after the first `context`.
std::string position(const std::string& yaml, const std::string& context,
                     const std::string& target) {
    const std::size_t at = yaml.find(target, yaml.find(context));
    const std::size_t line_start = yaml.rfind('\n', at) + 1;
    const auto line = 1 + std::count(yaml.begin(), yaml.begin() + static_cast<long>(at), '\n');
    return std::to_string(line) + ":" + std::to_string(at - line_start + 1);
}

void expect_refused(const std::string& yaml, const std::string& where, const std::string& words) {
    const std::string error = yaml_error(yaml);
    EXPECT_EQ(error.rfind("test.yaml:" + where + ": ", 0), 0u) << error << "\n" << yaml;
    EXPECT_NE(error.find(words), std::string::npos) << error;
}

std::string response_class(const HttpResponse& response) {
    rapidjson::Document body;
    body.Parse(response.body.c_str());
    return body.IsObject() && body.HasMember("err_class") ? body["err_class"].GetString()
                                                          : "<none>";
}

}  // namespace

TEST(RestAsyncConfig, AValidAsyncEndpointLoads) {
    EXPECT_EQ(yaml_error(async_yaml("    method: POST\n")), "");
    EXPECT_EQ(yaml_error(async_yaml("    method: PATCH\n    timeout: 3s\n")), "");
    const auto c = load_endpoint(
        R"({"method": "PUT", "async": true, "request": {"method": "DELETE", "path": "x"}})");
    EXPECT_TRUE(c->spec.endpoints[0].async);
    EXPECT_FALSE(load_endpoint(R"({"method": "POST"})")->spec.endpoints[0].async);
}

TEST(RestAsyncConfig, TheEndpointInfoSaysAsync) {
    const auto connector = make_connector(
        R"({"upstream": {"base_url": "http://up.test/"}, "endpoints": {
            "push": {"method": "POST", "async": true, "request": {"method": "POST"}},
            "query": {}}})");
    ASSERT_EQ(connector->endpoints().size(), 2u);
    EXPECT_TRUE(connector->endpoints()[0].async);
    EXPECT_FALSE(connector->endpoints()[1].async);
}

TEST(RestAsyncConfig, TheSchemaWantsABoolean) {
    std::string yaml = async_yaml("    method: POST\n");
    yaml.replace(yaml.find("async: true"), 11, "async: sometimes");
    expect_refused(yaml, position(yaml, "async:", "sometimes"), "");
}

TEST(RestAsyncConfig, DeliveryAndCallbacksAreAllowedAndChecked) {
    const std::string top =
        "delivery: {max_attempts: 5, max_backoff: 1m}\n"
        "callbacks:\n"
        "  reference: /id\n"
        "  statuses: {accepted: {trigger: accepte, terminal: true}}\n";
    EXPECT_EQ(yaml_error(top + async_yaml("    method: POST\n")), "");
    const std::string bad = "delivery: {max_attempts: 0}\n" + async_yaml("    method: POST\n");
    expect_refused(bad, position(bad, "max_attempts:", "0"), "");
}

TEST(RestAsyncConfig, CallersMustWrite) {
    std::string yaml = async_yaml("    method: GET\n");
    expect_refused(yaml, position(yaml, "    method: GET", "GET"),
                   "callers must use POST, PUT or PATCH");
    yaml = async_yaml("    method: DELETE\n");
    expect_refused(yaml, position(yaml, "    method: DELETE", "DELETE"),
                   "callers must use POST, PUT or PATCH");
    // Without a method the endpoint is called with GET: the error points at `async`.
    yaml = async_yaml("");
    expect_refused(yaml, position(yaml, "async:", "true"), "callers must use POST, PUT or PATCH");
}

TEST(RestAsyncConfig, TheUpstreamRequestMustWrite) {
    for (const std::string method : {"GET", "HEAD"}) {
        std::string yaml = async_yaml("    method: POST\n");
        yaml.replace(yaml.find("      method: POST"), 18, "      method: " + method);
        expect_refused(yaml, position(yaml, "      method: ", method),
                       "set request.method to POST, PUT, PATCH or DELETE");
    }
    // request.method defaults to GET.
    std::string yaml = async_yaml("    method: POST\n");
    yaml.replace(yaml.find("      method: POST"), 18, "      path: x");
    expect_refused(yaml, position(yaml, "    request:", "path"), "set request.method");
}

TEST(RestAsyncConfig, ResponseRetriesCacheAndErrorBodyAreRefused) {
    std::string yaml = async_yaml("    method: POST\n    response: {data: /id}\n");
    expect_refused(yaml, position(yaml, "response:", "{"),
                   "an async endpoint answers 202 with a tracking id, never the upstream's "
                   "answer: remove response");
    yaml = async_yaml("    method: POST\n    retries: 2\n");
    expect_refused(yaml, position(yaml, "retries:", "2"),
                   "the outbox retries the deliveries of an async endpoint: remove retries");
    yaml = async_yaml("    method: POST\n    personal_data: false\n    cache_ttl: 5m\n");
    expect_refused(yaml, position(yaml, "cache_ttl:", "5m"), "never cached: remove cache_ttl");
    yaml = async_yaml("    method: POST\n    personal_data: false\n    error_body: true\n");
    expect_refused(yaml, position(yaml, "error_body:", "true"), "remove error_body");
}

TEST(RestAsyncConfig, IdempotencyKeyIsSetByRelais) {
    std::string yaml =
        async_yaml("    method: POST\n", "", "      headers: {Idempotency-Key: \"{id}\"}\n");
    expect_refused(yaml, position(yaml, "Idempotency-Key:", "\"{id}\""),
                   "relais sets Idempotency-Key");
    yaml = async_yaml("    method: POST\n", "  headers: {idempotency-key: k}\n");
    expect_refused(yaml, position(yaml, "idempotency-key:", "k}"), "relais sets Idempotency-Key");
    // A connector without async endpoints may send one of its own.
    EXPECT_EQ(yaml_error("slug: t\nkind: rest\nfamily: reference\n"
                         "upstream: {base_url: \"http://up.test/\", headers: {Idempotency-Key: "
                         "k}}\nendpoints: {e: {}}\n"),
              "");
}

// Two endpoints alike but for `async`: every refusal of the push must be the
// refusal of the synchronous call, status, class and Allow header included.
TEST(RestAsyncPush, RefusesWhatTheSynchronousCallRefuses) {
    const std::string endpoint = R"({
        "method": "POST",
        "parameters": {"id": {"required": true, "type": "integer"}, "form_url": {}},
        "body_schema": {"type": "object", "required": ["name"],
                        "properties": {"name": {"type": "string"}}},
        "request": {"method": "POST", "path": "items/{id}",
                    "headers": {"X-Name": "{body:/name}"}, "body": "{body:}"})";
    const auto connector =
        make_connector(R"({"upstream": {"base_url": "http://up.test/"}, "endpoints": {"sync": )" +
                       endpoint + R"(}, "push": )" + endpoint + R"(, "async": true}}})");
    ASSERT_EQ(connector->endpoints()[1].name, "push");
    std::vector<IncomingRequest> refused = {
        make_request("GET", {{"id", "1"}}, R"({"name": "a"})"),
        make_request("POST", {}, R"({"name": "a"})"),
        make_request("POST", {{"id", "one"}}, R"({"name": "a"})"),
        make_request("POST", {{"id", "1"}}, "{not json"),
        make_request("POST", {{"id", "1"}}, R"({"name": 3})"),
        make_request("POST", {{"id", "1"}}, R"({})"),
        make_request("POST", {{"id", "1"}}, R"({"name": "a\r\nX-Evil: 1"})"),
    };
    IncomingRequest with_rest = make_request("POST", {{"id", "1"}}, R"({"name": "a"})");
    with_rest.rest = "more";
    refused.push_back(with_rest);
    boost::asio::io_context context;
    for (const auto& request : refused) {
        const HttpResponse sync = run_on(context, connector->handle(0, request));
        const auto push = connector->prepare_push(1, request);
        ASSERT_TRUE(std::holds_alternative<HttpResponse>(push)) << request.body;
        const HttpResponse& refusal = std::get<HttpResponse>(push);
        EXPECT_GE(refusal.status, 400u);
        EXPECT_LT(refusal.status, 500u);
        EXPECT_EQ(refusal.status, sync.status) << request.body;
        EXPECT_EQ(refusal.error, sync.error) << request.body;
        EXPECT_EQ(response_class(refusal), response_class(sync)) << request.body;
        EXPECT_EQ(refusal.headers.size(), sync.headers.size());
        if (const std::string* allow = find_header(refusal.headers, "Allow")) {
            EXPECT_EQ(*allow, "POST");
        }
    }
}

TEST(RestAsyncPush, HandleIsNotTheWayToAnAsyncEndpoint) {
    const auto connector = make_connector(R"({"upstream": {"base_url": "http://up.test/"},
        "endpoints": {"push": {"method": "POST", "async": true, "request": {"method": "POST"}},
                      "query": {}}})");
    boost::asio::io_context context;
    const HttpResponse response =
        run_on(context, connector->handle(0, make_request("POST", {}, "{}")));
    EXPECT_EQ(response.status, 500u);
    EXPECT_EQ(response_class(response), "internal-error");
    const auto push = connector->prepare_push(1, make_request("GET", {}));
    ASSERT_TRUE(std::holds_alternative<HttpResponse>(push));
    EXPECT_EQ(std::get<HttpResponse>(push).status, 500u);
}
