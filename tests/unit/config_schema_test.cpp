// Schema validation messages: each must say what to write instead, at the
// position of the culprit, and every independent error of a document must
// be reported.
#include "config/config_schema.hpp"

#include <gtest/gtest.h>

#include "../fixtures/config/config_test_support.hpp"
#include "config/config_document.hpp"

namespace relais::config {
namespace {

using Lines = std::vector<std::string>;

Lines check_connector(std::string_view yaml) {
    return test::lines(connector_schema().validate(parse_yaml(yaml, "x.yaml", "/")));
}

Lines check_relais(std::string_view yaml) {
    return test::lines(relais_schema().validate(parse_yaml(yaml, "relais.yaml", "/")));
}

constexpr std::string_view valid_connector = R"(slug: demo
kind: rest
family: reference
endpoints:
  search: {}
)";

TEST(ConfigSchema, ValidDocumentsHaveNoErrors) {
    EXPECT_EQ(check_connector(valid_connector), Lines{});
    EXPECT_EQ(check_relais(""), Lines{"relais.yaml:1:1: expected a mapping, not an empty value"});
    EXPECT_EQ(check_relais("{}"), Lines{});
    EXPECT_EQ(check_relais(R"(server:
  listen: "127.0.0.1:0"
  limits: {read_timeout: 250ms, body_bytes: 2048}
clients:
  wcs:
    publik: {orig: wcs.example.org, key: k}
    families: [reference]
    grants: {demo: "*", other: [search, reverse]}
)"),
              Lines{});
}

TEST(ConfigSchema, UnknownPropertyListsTheExpectedOnes) {
    EXPECT_EQ(check_relais("server:\n  treads: 4\n"),
              Lines{"relais.yaml:2:3: server: unknown property 'treads' (expected one of: listen, "
                    "threads, tls, limits, public_url, shutdown_grace)"});
}

TEST(ConfigSchema, UnknownPropertyOfAKindSchemaPointsAtTheKey) {
    const ConfigSchema kind(R"({
      "type": "object",
      "properties": {
        "slug": {"$ref": "connector.schema.json#/definitions/slug"},
        "kind": {"type": "string"},
        "family": {"$ref": "connector.schema.json#/definitions/family"},
        "endpoints": {"type": "object"}
      },
      "additionalProperties": false
    })");
    const auto doc = parse_yaml("slug: x\nkind: k\nenpoints: {}\n", "connectors/x.yaml", "/");
    EXPECT_EQ(test::lines(kind.validate(doc)),
              Lines{"connectors/x.yaml:3:1: unknown property 'enpoints' (expected one of: slug, "
                    "kind, family, endpoints)"});
}

TEST(ConfigSchema, WrongTypeSaysWhatIsExpectedAndWhatWasFound) {
    EXPECT_EQ(check_relais("server:\n  threads: four\n"),
              Lines{"relais.yaml:2:12: server.threads: expected an integer between 0 and 1024, "
                    "not a string"});
    EXPECT_EQ(check_relais("server:\n  limits: 12\n"),
              Lines{"relais.yaml:2:11: server.limits: expected a mapping, not an integer"});
    EXPECT_EQ(check_relais("server:\n  threads: \"4\"\n"),
              Lines{"relais.yaml:2:12: server.threads: expected an integer between 0 and 1024, "
                    "not a string"});
}

TEST(ConfigSchema, BoundsSayTheBoundThatFailed) {
    EXPECT_EQ(check_relais("server:\n  limits:\n    body_bytes: 12\n"),
              Lines{"relais.yaml:3:17: server.limits.body_bytes: expected an integer >= 1024"});
}

TEST(ConfigSchema, EnumQuotesTheValueAndListsTheChoices) {
    auto yaml = std::string(valid_connector);
    yaml.replace(yaml.find("reference"), 9, "etat-civil");
    EXPECT_EQ(check_connector(yaml),
              Lines{"x.yaml:3:9: family: 'etat-civil' is not one of: fiscalite, travail-social, "
                    "sante, transports, etat-civil-citoyennete, elus, scolaire-periscolaire, "
                    "sport-socioculturel, economie-urbanisme, polices-voirie, reference"});
}

TEST(ConfigSchema, PatternShowsThePattern) {
    auto yaml = std::string(valid_connector);
    yaml.replace(yaml.find("demo"), 4, "Demo_X");
    EXPECT_EQ(check_connector(yaml),
              Lines{"x.yaml:1:7: slug: expected a string matching ^[a-z0-9][a-z0-9-]{0,62}$"});
}

TEST(ConfigSchema, MissingRequiredProperty) {
    EXPECT_EQ(check_connector("kind: rest\nfamily: reference\nendpoints: {a: {}}\n"),
              Lines{"x.yaml:1:1: missing required property 'slug'"});
    EXPECT_EQ(check_connector("kind: rest\n"),
              (Lines{"x.yaml:1:1: missing required property 'slug'",
                     "x.yaml:1:1: missing required property 'family'",
                     "x.yaml:1:1: missing required property 'endpoints'"}));
    EXPECT_EQ(check_relais("server:\n  tls:\n    certificate: c.pem\n"),
              Lines{"relais.yaml:2:3: server.tls: missing required property 'private_key'"});
}

TEST(ConfigSchema, BadDurationExplainsTheFormat) {
    EXPECT_EQ(check_relais("server:\n  shutdown_grace: 10 seconds\n"),
              Lines{"relais.yaml:2:19: server.shutdown_grace: expected a duration such as 30s "
                    "(digits and a unit: ms, s, m or h)"});
    EXPECT_EQ(check_relais("server:\n  limits: {read_timeout: 30}\n"),
              Lines{"relais.yaml:2:26: server.limits.read_timeout: expected a duration such as 30s "
                    "(digits and a unit: ms, s, m or h), not an integer"});
}

TEST(ConfigSchema, InvalidNamesOfMaps) {
    EXPECT_EQ(check_relais("clients:\n  Bad Name:\n    apikey: k\n"),
              Lines{"relais.yaml:2:3: clients: 'Bad Name' is not a valid name (expected a name "
                    "matching ^[a-z0-9][a-z0-9_.-]*$)"});
    EXPECT_EQ(check_connector("slug: a\nkind: k\nfamily: sante\nendpoints: {}\n"),
              Lines{"x.yaml:4:1: endpoints: expected at least 1 entry"});
}

TEST(ConfigSchema, NamesCheckedByPatternsAndErrorsInsideNamedMembers) {
    EXPECT_EQ(check_connector("slug: a\nkind: k\nfamily: sante\nendpoints:\n  ok: {}\n"
                              "  Bad Name: {}\n  also-ok: 3\n"),
              (Lines{"x.yaml:6:3: endpoints: 'Bad Name' is not a valid name (expected a name "
                     "matching ^[a-z0-9][a-z0-9_-]*$)",
                     "x.yaml:7:12: endpoints.also-ok: expected a mapping, not an integer"}));
    EXPECT_EQ(check_relais("clients:\n  c:\n    apikey: k\n    grants:\n      Demo: \"*\"\n"
                           "      demo: [search, search]\n"),
              (Lines{"relais.yaml:5:7: clients.c.grants: 'Demo' is not a valid name (expected a "
                     "name matching ^[a-z0-9][a-z0-9-]{0,62}$)",
                     "relais.yaml:6:7: clients.c.grants.demo: expected a list of at least 1 item, "
                     "each a string matching ^[a-z0-9][a-z0-9_-]*$, none twice"}));
}

TEST(ConfigSchema, ClientNeedsACredential) {
    EXPECT_EQ(
        check_relais("clients:\n  wcs:\n    families: [sante]\n"),
        Lines{"relais.yaml:2:3: clients.wcs: expected at least one of: publik, apikey, basic"});
}

TEST(ConfigSchema, GrantIsStarOrAList) {
    EXPECT_EQ(check_relais("clients:\n  c:\n    apikey: k\n    grants: {demo: all}\n"),
              Lines{"relais.yaml:4:20: clients.c.grants.demo: expected '*'"});
    EXPECT_EQ(check_relais("clients:\n  c:\n    apikey: k\n    grants: {demo: 3}\n"),
              Lines{"relais.yaml:4:20: clients.c.grants.demo: expected '*' or a list of at least 1 "
                    "item, each a string matching ^[a-z0-9][a-z0-9_-]*$, none twice, not an "
                    "integer"});
}

TEST(ConfigSchema, ListItemsAreNamedByIndex) {
    EXPECT_EQ(check_relais("clients:\n  c:\n    apikey: k\n    families: [sante, nope]\n"),
              Lines{"relais.yaml:4:23: clients.c.families[1]: 'nope' is not one of: fiscalite, "
                    "travail-social, sante, transports, etat-civil-citoyennete, elus, "
                    "scolaire-periscolaire, sport-socioculturel, economie-urbanisme, "
                    "polices-voirie, reference"});
}

TEST(ConfigSchema, EveryIndependentErrorIsReported) {
    EXPECT_EQ(check_relais(R"(server:
  threads: -1
  listen: 8080
logging:
  level: verbose
  colour: true
clients:
  wcs:
    publik: {orig: wcs.example.org}
    families: [sante]
  demo:
    apikey: 42
)"),
              (Lines{
                  "relais.yaml:2:12: server.threads: expected an integer >= 0",
                  "relais.yaml:3:11: server.listen: expected a non-empty string, not an integer",
                  "relais.yaml:5:10: logging.level: 'verbose' is not one of: debug, info, warn, "
                  "error",
                  "relais.yaml:6:3: logging: unknown property 'colour' (expected one of: level, "
                  "file)",
                  "relais.yaml:9:5: clients.wcs.publik: missing required property 'key'",
                  "relais.yaml:12:13: clients.demo.apikey: expected a non-empty string, not an "
                  "integer",
              }));
}

TEST(ConfigSchema, RootThatIsNotAMapping) {
    EXPECT_EQ(check_connector("- a\n- b\n"), Lines{"x.yaml:1:1: expected a mapping, not a list"});
}

TEST(ConfigSchema, NonJsonSchemaIsRejected) {
    EXPECT_THROW(ConfigSchema("{not json"), std::invalid_argument);
    EXPECT_THROW(ConfigSchema("[]"), std::invalid_argument);
}

TEST(ConfigSchema, ValuesAreNeverQuotedOutsideEnums) {
    const auto errors = check_relais("clients:\n  c:\n    apikey: [s3cr3t-canary]\n");
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_EQ(errors[0].find("s3cr3t-canary"), std::string::npos) << errors[0];
}

}  // namespace
}  // namespace relais::config
