// schemas/rest.schema.json through the core's YAML conversion and schema
// validation, and the shipped example connectors.
#include <gtest/gtest.h>

#include <filesystem>

#include "config/config_document.hpp"
#include "config/config_schema.hpp"
#include "rest/connector_spec.hpp"
#include "schema_test_support.hpp"

using namespace relais;
using relais::test_support::check_documented;
using relais::test_support::read_source;

namespace {

const config::ConfigSchema& rest_schema() {
    static const config::ConfigSchema schema(read_source("schemas/rest.schema.json"));
    return schema;
}

std::vector<std::string> schema_errors(const std::string& yaml) {
    const auto doc = config::parse_yaml(yaml, "test.yaml", ".");
    std::vector<std::string> out;
    for (const auto& e : rest_schema().validate(doc)) {
        out.push_back(e.what());
    }
    return out;
}

const std::string minimal = R"(slug: t
kind: rest
family: reference
upstream: {base_url: "http://up.test/"}
endpoints:
  e:
    description: d
)";

}  // namespace

TEST(RestSchema, IsDocumentedAndClosed) {
    rapidjson::Document schema;
    schema.Parse(read_source("schemas/rest.schema.json").c_str());
    ASSERT_FALSE(schema.HasParseError());
    EXPECT_STREQ(schema["$schema"].GetString(), "http://json-schema.org/draft-04/schema#");
    check_documented(schema, "");
}

TEST(RestSchema, ExampleConnectorsAreValidAndLoad) {
    for (const char* file : {"connectors/demo-adresses.yaml", "connectors/demo-etat-civil.yaml"}) {
        const auto doc =
            config::parse_yaml(read_source(file), file, RELAIS_SOURCE_DIR "/connectors");
        const auto errors = rest_schema().validate(doc);
        for (const auto& e : errors) {
            ADD_FAILURE() << e.what();
        }
        const ConnectorSource source{doc.json, doc.values, "x", "rest", "reference", {}};
        EXPECT_NO_THROW(rest::load_connector_spec(source)) << file;
    }
}

TEST(RestSchema, ExampleConnectorsDeclareWhatTheBriefPromises) {
    const auto adresses =
        config::parse_yaml(read_source("connectors/demo-adresses.yaml"), "demo-adresses.yaml", ".");
    const auto spec = rest::load_connector_spec(
        ConnectorSource{adresses.json, adresses.values, "demo-adresses", "rest", "reference", {}});
    ASSERT_EQ(spec.endpoints.size(), 2u);
    EXPECT_EQ(spec.endpoints[0].name, "search");
    EXPECT_EQ(spec.endpoints[1].name, "reverse");
    for (const auto& e : spec.endpoints) {
        EXPECT_FALSE(e.personal_data);
        EXPECT_TRUE(e.cache_ttl);
    }
    const auto civil = config::parse_yaml(read_source("connectors/demo-etat-civil.yaml"),
                                          "demo-etat-civil.yaml", ".");
    const auto civil_spec = rest::load_connector_spec(ConnectorSource{
        civil.json, civil.values, "demo-etat-civil", "rest", "etat-civil-citoyennete", {}});
    ASSERT_EQ(civil_spec.endpoints.size(), 1u);
    EXPECT_EQ(civil_spec.endpoints[0].name, "birth-certificate-request");
    EXPECT_TRUE(civil_spec.endpoints[0].personal_data);
    EXPECT_TRUE(civil_spec.endpoints[0].body_schema);
    EXPECT_TRUE(std::holds_alternative<upstream::BearerAuth>(civil_spec.upstream.auth));
}

TEST(RestSchema, AcceptsTheMinimalConnector) {
    EXPECT_TRUE(schema_errors(minimal).empty());
}

TEST(RestSchema, RefusesWhatIsNotPartOfTheKind) {
    const std::vector<std::string> bad = {
        minimal + "extra: 1\n",
        minimal + "    cache_tll: 5m\n",
        minimal + "    retries: 9\n",
        minimal + "    timeout: 5 s\n",
        minimal + "    method: OPTIONS\n",
        minimal + "    parameters: {q: {type: text}}\n",
        minimal + "    parameters: {q: {requried: true}}\n",
        minimal + "    request: {query: {q: {q}}}\n",
        minimal + "    response: {data: features}\n",
        std::string(minimal).replace(minimal.find("kind: rest"), 10, "kind: soap"),
        std::string(minimal).replace(minimal.find("{base_url: \"http://up.test/\"}"), 29,
                                     "{base_url: \"http://up.test/\", auth: {bearer: {token: a}, "
                                     "basic: {username: u, password: p}}}"),
    };
    for (const auto& yaml : bad) {
        EXPECT_FALSE(schema_errors(yaml).empty()) << yaml;
    }
}

TEST(RestSchema, ErrorsPointAtTheLine) {
    const auto errors = schema_errors(minimal + "    cache_tll: 5m\n");
    ASSERT_FALSE(errors.empty());
    EXPECT_EQ(errors[0].rfind("test.yaml:8:", 0), 0u) << errors[0];
}
