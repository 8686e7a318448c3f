// relais.yaml: defaults, typing, relative paths, and semantic errors with
// their positions.
#include <gtest/gtest.h>

#include "../fixtures/config/config_test_support.hpp"
#include "config/relais_config.hpp"

namespace relais {
namespace {

using Lines = std::vector<std::string>;

/// Errors of `yaml` written as relais.yaml in `dir`, with the file name
/// shortened to "relais.yaml".
Lines errors_of(const test::TempDir& dir, std::string_view yaml) {
    const auto file = dir.write("relais.yaml", yaml);
    try {
        load_relais_config(file);
    } catch (const ConfigErrors& e) {
        Lines out;
        for (const auto& error : e.errors()) {
            out.push_back("relais.yaml:" + std::to_string(error.position().line) + ":" +
                          std::to_string(error.position().column) + ": " + error.message());
        }
        return out;
    }
    return {};
}

TEST(ConfigRelais, EmptyFileGivesTheDefaults) {
    test::TempDir dir;
    const auto config = load_relais_config(dir.write("relais.yaml", "{}\n"));
    EXPECT_EQ(config.server.address, "127.0.0.1");
    EXPECT_EQ(config.server.port, 8080);
    EXPECT_EQ(config.server.threads, 0U);
    EXPECT_FALSE(config.server.tls.has_value());
    EXPECT_EQ(config.server.limits.header_bytes, 16384U);
    EXPECT_EQ(config.server.limits.body_bytes, 10485760U);
    EXPECT_EQ(config.server.limits.read_timeout, std::chrono::seconds(30));
    EXPECT_EQ(config.server.limits.idle_timeout, std::chrono::seconds(60));
    EXPECT_EQ(config.server.limits.max_connections, 1024U);
    EXPECT_EQ(config.server.shutdown_grace, std::chrono::seconds(10));
    EXPECT_EQ(config.log_level, log::Level::info);
    EXPECT_TRUE(config.log_file.empty());
    EXPECT_EQ(config.connectors_dir, dir.path() / "connectors");
    EXPECT_EQ(config.data_dir, dir.path() / "var");
    EXPECT_EQ(config.plugins_dir, default_plugins_dir());
    EXPECT_TRUE(config.clients.empty());
    EXPECT_EQ(config.file, dir.path() / "relais.yaml");
}

TEST(ConfigRelais, EveryFieldIsTyped) {
    test::TempDir dir;
    test::ScopedEnv env("RELAIS_TEST_WCS_KEY", "wcs-key");
    dir.write("secrets/pw", "basic-pw\n");
    const auto config = load_relais_config(dir.write("etc/relais.yaml", R"(server:
  listen: "[::1]:0"
  threads: 3
  tls: {certificate: tls/cert.pem, private_key: /abs/key.pem}
  limits:
    header_bytes: 2048
    body_bytes: 4096
    read_timeout: 250ms
    idle_timeout: 2m
    max_connections: 7
  shutdown_grace: 1h
logging: {level: debug, file: ../log/relais.log}
paths: {connectors: ../conn, plugins: /opt/relais/plugins, data: data}
clients:
  wcs:
    publik: {orig: wcs.example.org, key: "${env:RELAIS_TEST_WCS_KEY}"}
    basic: {username: wcs, password: "${file:../secrets/pw}"}
    allow_from: [127.0.0.1, 10.1.2.3/8, "::1"]
    families: [reference, sante]
    grants: {demo: "*", other: [search, reverse]}
  demo:
    apikey: demo-key
)"));
    EXPECT_EQ(config.server.address, "::1");
    EXPECT_EQ(config.server.port, 0);
    EXPECT_EQ(config.server.threads, 3U);
    ASSERT_TRUE(config.server.tls.has_value());
    EXPECT_EQ(config.server.tls->certificate_file, dir.path() / "etc/tls/cert.pem");
    EXPECT_EQ(config.server.tls->private_key_file, "/abs/key.pem");
    EXPECT_EQ(config.server.limits.header_bytes, 2048U);
    EXPECT_EQ(config.server.limits.body_bytes, 4096U);
    EXPECT_EQ(config.server.limits.read_timeout, std::chrono::milliseconds(250));
    EXPECT_EQ(config.server.limits.idle_timeout, std::chrono::minutes(2));
    EXPECT_EQ(config.server.limits.max_connections, 7U);
    EXPECT_EQ(config.server.shutdown_grace, std::chrono::hours(1));
    EXPECT_EQ(config.log_level, log::Level::debug);
    EXPECT_EQ(config.log_file, dir.path() / "log/relais.log");
    EXPECT_EQ(config.connectors_dir, dir.path() / "conn");
    EXPECT_EQ(config.plugins_dir, "/opt/relais/plugins");
    EXPECT_EQ(config.data_dir, dir.path() / "etc/data");

    ASSERT_EQ(config.clients.size(), 2U);
    const ClientConfig& wcs = config.clients[0];
    EXPECT_EQ(wcs.name, "wcs");
    EXPECT_EQ(wcs.position.line, 15);
    ASSERT_EQ(wcs.credentials.size(), 2U);
    const auto& publik = std::get<PublikCredentials>(wcs.credentials[0]);
    EXPECT_EQ(publik.orig, "wcs.example.org");
    EXPECT_EQ(publik.key, "wcs-key");
    const auto& basic = std::get<BasicCredentials>(wcs.credentials[1]);
    EXPECT_EQ(basic.username, "wcs");
    EXPECT_EQ(basic.password, "basic-pw");
    EXPECT_EQ(wcs.allow_from, (Lines{"127.0.0.1/32", "10.0.0.0/8", "::1/128"}));
    EXPECT_EQ(wcs.families, (Lines{"reference", "sante"}));
    ASSERT_EQ(wcs.grants.size(), 2U);
    EXPECT_TRUE(wcs.grants.at("demo").empty());
    EXPECT_EQ(wcs.grants.at("other"), (Lines{"search", "reverse"}));
    EXPECT_EQ(std::get<ApiKeyCredentials>(config.clients[1].credentials[0]).key, "demo-key");
    EXPECT_EQ(config.locations.find("/clients/demo/apikey").line, 22);
}

TEST(ConfigRelais, BadListenAddress) {
    test::TempDir dir;
    for (const char* listen : {"localhost:8080", "127.0.0.1", "127.0.0.1:65536", "[::1:80",
                               "::1:80", "127.0.0.1:http"}) {
        EXPECT_EQ(errors_of(dir, std::string("server:\n  listen: \"") + listen + "\"\n"),
                  Lines{"relais.yaml:2:11: server.listen: expected ADDRESS:PORT with a numeric IP "
                        "address, such as 127.0.0.1:8080 or [::1]:8080 (port 0: any free port)"})
            << listen;
    }
}

TEST(ConfigRelais, BadCidr) {
    test::TempDir dir;
    EXPECT_EQ(errors_of(dir, R"(clients:
  c:
    apikey: k
    allow_from: [10.0.0.0/8, 10.0.0.0/33, "::1/200", example.org]
)"),
              (Lines{
                  "relais.yaml:4:30: clients.c.allow_from[1]: expected an address block such as "
                  "192.0.2.0/24 or 2001:db8::/32, or an IP address",
                  "relais.yaml:4:43: clients.c.allow_from[2]: expected an address block such as "
                  "192.0.2.0/24 or 2001:db8::/32, or an IP address",
                  "relais.yaml:4:54: clients.c.allow_from[3]: expected an address block such as "
                  "192.0.2.0/24 or 2001:db8::/32, or an IP address",
              }));
}

TEST(ConfigRelais, DuplicateCredentialsAcrossClients) {
    test::TempDir dir;
    test::ScopedEnv env("RELAIS_TEST_SAME_KEY", "same-key-canary");
    const Lines errors = errors_of(dir, R"(clients:
  a:
    publik: {orig: wcs.example.org, key: k1}
    apikey: "${env:RELAIS_TEST_SAME_KEY}"
  b:
    publik: {orig: wcs.example.org, key: k2}
    apikey: same-key-canary
    basic: {username: u, password: p}
  c:
    basic: {username: u, password: q}
)");
    EXPECT_EQ(errors, (Lines{
                          "relais.yaml:6:20: clients.b.publik.orig: the same orig as client 'a'",
                          "relais.yaml:7:13: clients.b.apikey: the same API key as client 'a'",
                          "relais.yaml:10:23: clients.c.basic.username: the same user name as "
                          "client 'b'",
                      }));
}

TEST(ConfigRelais, BasicUserNameWithoutColon) {
    test::TempDir dir;
    EXPECT_EQ(errors_of(dir, "clients:\n  c:\n    basic: {username: \"a:b\", password: p}\n"),
              Lines{"relais.yaml:3:23: clients.c.basic.username: must not contain ':'"});
}

TEST(ConfigRelais, UnknownFamilyIsASchemaError) {
    test::TempDir dir;
    EXPECT_EQ(errors_of(dir, "clients:\n  c:\n    apikey: k\n    families: [etat-civil]\n"),
              Lines{"relais.yaml:4:16: clients.c.families[0]: 'etat-civil' is not one of: "
                    "fiscalite, travail-social, sante, transports, etat-civil-citoyennete, elus, "
                    "scolaire-periscolaire, sport-socioculturel, economie-urbanisme, "
                    "polices-voirie, reference"});
}

TEST(ConfigRelais, MissingSecretIsReportedAtItsValue) {
    test::TempDir dir;
    unsetenv("RELAIS_TEST_NOT_SET");
    EXPECT_EQ(errors_of(dir, "clients:\n  c:\n    apikey: ${env:RELAIS_TEST_NOT_SET}\n"),
              Lines{"relais.yaml:3:13: environment variable 'RELAIS_TEST_NOT_SET' is not set"});
}

TEST(ConfigRelais, ReadKeepsGoingDespiteErrors) {
    test::TempDir dir;
    std::vector<ConfigError> errors;
    const auto config = read_relais_config(
        dir.write("relais.yaml", "server: {threads: x}\npaths: {connectors: elsewhere}\n"), errors);
    ASSERT_TRUE(config.has_value());
    EXPECT_EQ(errors.size(), 1U);
    EXPECT_EQ(config->connectors_dir, dir.path() / "elsewhere");

    errors.clear();
    EXPECT_FALSE(read_relais_config(dir.write("relais.yaml", "a: [\n"), errors).has_value());
    EXPECT_EQ(errors.size(), 1U);
}

}  // namespace
}  // namespace relais
