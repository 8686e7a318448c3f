// load_runtime(): relais.yaml + connector files + plugins + grants, with
// every error of every file reported at once.
#include <gtest/gtest.h>

#include "../fixtures/config/config_test_support.hpp"
#include "auth/client_registry.hpp"
#include "core/runtime.hpp"
#include "plugin/plugin_api.hpp"

namespace relais {
namespace {

using Lines = std::vector<std::string>;

constexpr std::string_view alpha = R"(slug: alpha
kind: test-config
family: reference
description: Test connector
limits: {concurrency: 5}
token: "Bearer ${env:RELAIS_TEST_RT_TOKEN}"
endpoints:
  search: {personal_data: false}
  reverse: {method: POST}
)";

TEST(ConfigRuntime, LoadsConnectorsAndRoutesThem) {
    test::TempDir dir;
    test::ScopedEnv token("RELAIS_TEST_RT_TOKEN", "t0k3n");
    dir.write("connectors/alpha.yaml", alpha);
    dir.write("connectors/.#alpha.yaml", "editor lock file, not a connector");
    dir.write("connectors/notes.txt", "not a connector");
    const auto runtime = load_runtime(dir.write("relais.yaml", test::relais_yaml(R"(clients:
  wcs:
    apikey: key-of-wcs
    families: [reference]
    grants: {alpha: [search]}
)")));
    ASSERT_EQ(runtime->connectors().size(), 1U);
    const ConnectorEntry* entry = runtime->find("test-config", "alpha");
    ASSERT_NE(entry, nullptr);
    EXPECT_EQ(entry->slug, "alpha");
    EXPECT_EQ(entry->kind, "test-config");
    EXPECT_EQ(entry->family, "reference");
    EXPECT_EQ(entry->description, "Test connector");
    EXPECT_EQ(entry->file, (dir.path() / "connectors/alpha.yaml").string());
    EXPECT_EQ(entry->max_concurrency, 5U);
    ASSERT_EQ(entry->endpoint_index.size(), 2U);
    const auto endpoints = entry->connector->endpoints();
    EXPECT_FALSE(endpoints[entry->endpoint_index.at("search")].personal_data);
    EXPECT_TRUE(endpoints[entry->endpoint_index.at("reverse")].personal_data);
    EXPECT_EQ(runtime->find("rest", "alpha"), nullptr);
    EXPECT_EQ(runtime->find("test-config", "beta"), nullptr);
    EXPECT_EQ(runtime->config().clients.size(), 1U);
}

TEST(ConfigRuntime, DefaultConcurrency) {
    test::TempDir dir;
    dir.write("connectors/b.yml",
              "slug: b\nkind: test-config\nfamily: sante\nendpoints: {e: {}}\n");
    const auto runtime = load_runtime(dir.write("relais.yaml", test::relais_yaml()));
    ASSERT_NE(runtime->find("test-config", "b"), nullptr);
    EXPECT_EQ(runtime->find("test-config", "b")->max_concurrency, 64U);
}

TEST(ConfigRuntime, ABrowserEndpointCannotBeAsync) {
    test::TempDir dir;
    dir.write("connectors/b.yml",
              "slug: b\nkind: test-config\nfamily: sante\nendpoints:\n"
              "  open: {browser: true}\n  push: {browser: true, async: true}\n");
    EXPECT_EQ(test::runtime_errors(dir.write("relais.yaml", test::relais_yaml())),
              std::vector<std::string>{"b.yml:6:3: endpoint 'push' cannot be both a browser "
                                       "endpoint and async"});
}

TEST(ConfigRuntime, EveryFileIsCheckedAndEveryErrorReported) {
    test::TempDir dir;
    test::ScopedEnv token("RELAIS_TEST_RT_TOKEN", "canary-token-55");
    unsetenv("RELAIS_TEST_RT_UNSET");
    dir.write("connectors/a-syntax.yaml", "slug: [a\n");
    dir.write("connectors/b-unknown-kind.yaml",
              "slug: b\nkind: soapx\nfamily: sante\nendpoints: {e: {}}\n");
    dir.write("connectors/c-traversal.yaml",
              "slug: c\nkind: ../x\nfamily: sante\nendpoints: {e: {}}\n");
    dir.write("connectors/d-wrong-api.yaml",
              "slug: d\nkind: test-wrong-api\nfamily: sante\nendpoints: {e: {}}\n");
    dir.write("connectors/e-kind-schema.yaml",
              "slug: e\nkind: test-config\nfamily: sante\nendpoints:\n  e: {method: PUT}\n");
    dir.write("connectors/f-rejected.yaml",
              "slug: f\nkind: test-config\nfamily: sante\nreject: please\nendpoints: {e: {}}\n");
    dir.write(
        "connectors/g-extra.yaml",
        "slug: g\nkind: test-config\nfamily: sante\nextra_endpoint: more\nendpoints: {e: {}}\n");
    dir.write("connectors/h-duplicate.yaml", alpha);
    dir.write("connectors/h-original.yml", alpha);
    dir.write("connectors/i-secret.yaml",
              "slug: i\nkind: test-config\nfamily: sante\ntoken: ${env:RELAIS_TEST_RT_UNSET}\n"
              "endpoints: {e: {}}\n");
    dir.write("connectors/j-common.yaml", "slug: j\nkind: test-config\nfamily: nope\n");
    dir.write("connectors/k-both.yaml",
              "slug: k\nkind: test-config\nfamily: nope\ntimeout: 5 s\nendpoints: {e: {}}\n");
    const Lines errors = test::runtime_errors(dir.write("relais.yaml", test::relais_yaml()));
    const std::string plugins = std::filesystem::canonical(test::test_plugin_dir()).string();
    EXPECT_EQ(errors,
              (Lines{
                  "a-syntax.yaml:2:1: end of sequence flow not found",
                  "b-unknown-kind.yaml:2:7: no plugin provides kind 'soapx' (looked for " +
                      test::test_plugin_dir().lexically_normal().string() + "/relais_soapx.so)",
                  "c-traversal.yaml:2:7: kind: expected a string matching ^[a-z][a-z0-9-]{0,31}$",
                  "d-wrong-api.yaml:2:7: plugin " + plugins +
                      "/relais_test_wrong_api.so has API version 9, relais needs " +
                      std::to_string(RELAIS_PLUGIN_API_VERSION),
                  "e-kind-schema.yaml:5:15: endpoints.e.method: 'PUT' is not one of: GET, POST",
                  "f-rejected.yaml:4:9: rejected as the test asked",
                  "g-extra.yaml:5:1: kind 'test-config' built endpoints that differ from the "
                  "file's; unexpected: more",
                  "h-original.yml:1:7: slug 'alpha' is already used by " +
                      (dir.path() / "connectors/h-duplicate.yaml").string() + ":1",
                  "i-secret.yaml:4:8: environment variable 'RELAIS_TEST_RT_UNSET' is not set",
                  "j-common.yaml:1:1: missing required property 'endpoints'",
                  "j-common.yaml:3:9: family: 'nope' is not one of: fiscalite, travail-social, "
                  "sante, transports, etat-civil-citoyennete, elus, scolaire-periscolaire, "
                  "sport-socioculturel, economie-urbanisme, polices-voirie, reference",
                  "k-both.yaml:3:9: family: 'nope' is not one of: fiscalite, travail-social, "
                  "sante, transports, etat-civil-citoyennete, elus, scolaire-periscolaire, "
                  "sport-socioculturel, economie-urbanisme, polices-voirie, reference",
                  "k-both.yaml:4:10: timeout: expected a duration such as 30s (digits and a unit: "
                  "ms, s, m or h)",
              }));
    for (const auto& line : errors) {
        EXPECT_EQ(line.find("canary-token-55"), std::string::npos) << line;
    }
}

TEST(ConfigRuntime, GrantsAreCheckedByTheClientRegistry) {
    test::TempDir dir;
    dir.write("connectors/b.yaml",
              "slug: b\nkind: test-config\nfamily: sante\nendpoints: {e: {}}\n");
    const Lines errors = test::runtime_errors(dir.write("relais.yaml", test::relais_yaml(R"(clients:
  wcs:
    apikey: key-of-wcs
    families: [sante]
    grants: {nope: "*"}
)")));
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_TRUE(errors[0].starts_with("relais.yaml:9:")) << errors[0];
}

TEST(ConfigRuntime, GrantsToAFailedConnectorAddNoNoise) {
    test::TempDir dir;
    dir.write("connectors/b.yaml",
              "slug: b\nkind: test-config\nfamily: sante\nreject: x\nendpoints: {e: {}}\n");
    const Lines errors = test::runtime_errors(dir.write("relais.yaml", test::relais_yaml(R"(clients:
  wcs:
    apikey: key-of-wcs
    families: [sante]
    grants: {b: "*"}
)")));
    EXPECT_EQ(errors, Lines{"b.yaml:4:9: rejected as the test asked"});
}

TEST(ConfigRuntime, AConnectorThatThrowsAnythingIsAnErrorOfItsFile) {
    test::TempDir dir;
    dir.write("connectors/b.yaml",
              "slug: b\nkind: test-config\nfamily: sante\nthrow_int: true\nendpoints: {e: {}}\n");
    const Lines errors = test::runtime_errors(dir.write("relais.yaml", test::relais_yaml("")));
    EXPECT_EQ(errors, Lines{"b.yaml:1:1: kind 'test-config' could not build the connector (int)"});
}

TEST(ConfigRuntime, ErrorsOfRelaisYamlAndOfConnectorsTogether) {
    test::TempDir dir;
    dir.write("connectors/b.yaml", "slug: b\nkind: soapy\nfamily: sante\nendpoints: {e: {}}\n");
    const Lines errors =
        test::runtime_errors(dir.write("relais.yaml", test::relais_yaml("server: {threads: x}\n")));
    ASSERT_EQ(errors.size(), 2U);
    EXPECT_TRUE(errors[0].starts_with("relais.yaml:5:19: server.threads:")) << errors[0];
    EXPECT_TRUE(errors[1].starts_with("b.yaml:2:7: no plugin provides kind 'soapy'")) << errors[1];
}

TEST(ConfigRuntime, MissingConnectorsDirectory) {
    test::TempDir dir;
    EXPECT_EQ(test::runtime_errors(dir.write("relais.yaml", test::relais_yaml())),
              Lines{"relais.yaml:2:15: paths.connectors: directory " +
                    (dir.path() / "connectors").string() + " does not exist"});
}

}  // namespace
}  // namespace relais
