// relais.yaml: defaults, typing, relative paths, and semantic errors with
// their positions.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>

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

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

KeyPtr ec_key() {
    return KeyPtr(EVP_EC_gen("P-256"), &EVP_PKEY_free);
}

/// Writes `key` as PEM, encrypted with `passphrase` when there is one.
void write_key(const std::filesystem::path& file, EVP_PKEY* key, const char* passphrase = nullptr) {
    const std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new_file(file.c_str(), "w"), &BIO_free);
    ASSERT_TRUE(out);
    const EVP_CIPHER* cipher = passphrase != nullptr ? EVP_aes_256_cbc() : nullptr;
    ASSERT_EQ(PEM_write_bio_PrivateKey(out.get(), key, cipher, nullptr, 0, nullptr,
                                       const_cast<char*>(passphrase)),
              1);
}

/// Writes a self-signed certificate for `key`.
void write_certificate(const std::filesystem::path& file, EVP_PKEY* key) {
    const std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
    ASSERT_TRUE(cert);
    ASSERT_EQ(X509_set_version(cert.get(), 2), 1);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("relais-test"), -1, -1, 0);
    ASSERT_EQ(X509_set_issuer_name(cert.get(), name), 1);
    ASSERT_EQ(X509_set_pubkey(cert.get(), key), 1);
    ASSERT_GT(X509_sign(cert.get(), key, EVP_sha256()), 0);
    const std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new_file(file.c_str(), "w"), &BIO_free);
    ASSERT_TRUE(out);
    ASSERT_EQ(PEM_write_bio_X509(out.get(), cert.get()), 1);
}

/// A directory with cert.pem and its key.pem, other.pem (another EC key),
/// rsa.pem (an RSA key), locked.pem (key.pem with a passphrase) and
/// junk.pem (not PEM).
class TlsFiles {
public:
    TlsFiles() {
        const KeyPtr key = ec_key();
        const KeyPtr other = ec_key();
        const KeyPtr rsa(EVP_RSA_gen(2048), &EVP_PKEY_free);
        EXPECT_TRUE(key && other && rsa);
        write_certificate(dir.path() / "cert.pem", key.get());
        write_key(dir.path() / "key.pem", key.get());
        write_key(dir.path() / "other.pem", other.get());
        write_key(dir.path() / "rsa.pem", rsa.get());
        write_key(dir.path() / "locked.pem", key.get(), "passphrase");
        dir.write("junk.pem", "not a PEM file\n");
    }

    test::TempDir dir;
};

/// Errors of a relais.yaml whose line 3 is `    certificate: <certificate>`
/// and line 4 `    private_key: <key>`.
Lines tls_errors(const TlsFiles& files, const std::string& certificate, const std::string& key) {
    return errors_of(files.dir, "server:\n  tls:\n    certificate: " + certificate +
                                    "\n    private_key: " + key + "\n");
}

std::string read_text(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
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
    EXPECT_EQ(config.server.limits.anonymous_per_second, 5.0);
    EXPECT_EQ(config.server.limits.anonymous_burst, 50U);
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
    TlsFiles tls;
    std::filesystem::create_directories(dir.path() / "etc/tls");
    std::filesystem::copy_file(tls.dir.path() / "cert.pem", dir.path() / "etc/tls/cert.pem");
    std::filesystem::create_directories(dir.path() / "log");
    const std::string key = (tls.dir.path() / "key.pem").string();
    test::ScopedEnv env("RELAIS_TEST_WCS_KEY", "wcs-key");
    dir.write("secrets/pw", "basic-pw\n");
    const auto config = load_relais_config(dir.write("etc/relais.yaml", R"(server:
  listen: "[::1]:0"
  threads: 3
  tls: {certificate: tls/cert.pem, private_key: )" + key + R"(}
  limits:
    header_bytes: 2048
    body_bytes: 4096
    read_timeout: 250ms
    idle_timeout: 2m
    max_connections: 7
    anonymous: {per_second: 0.5, burst: 4}
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
    EXPECT_EQ(config.server.tls->private_key_file, key);
    EXPECT_EQ(config.server.limits.header_bytes, 2048U);
    EXPECT_EQ(config.server.limits.body_bytes, 4096U);
    EXPECT_EQ(config.server.limits.read_timeout, std::chrono::milliseconds(250));
    EXPECT_EQ(config.server.limits.idle_timeout, std::chrono::minutes(2));
    EXPECT_EQ(config.server.limits.max_connections, 7U);
    EXPECT_EQ(config.server.limits.anonymous_per_second, 0.5);
    EXPECT_EQ(config.server.limits.anonymous_burst, 4U);
    EXPECT_EQ(config.server.shutdown_grace, std::chrono::hours(1));
    EXPECT_EQ(config.log_level, log::Level::debug);
    EXPECT_EQ(config.log_file, dir.path() / "log/relais.log");
    EXPECT_EQ(config.connectors_dir, dir.path() / "conn");
    EXPECT_EQ(config.plugins_dir, "/opt/relais/plugins");
    EXPECT_EQ(config.data_dir, dir.path() / "etc/data");

    ASSERT_EQ(config.clients.size(), 2U);
    const ClientConfig& wcs = config.clients[0];
    EXPECT_EQ(wcs.name, "wcs");
    EXPECT_EQ(wcs.position.line, 16);
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
    EXPECT_EQ(config.locations.find("/clients/demo/apikey").line, 23);
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

TEST(ConfigRelais, TlsCertificateAndKeyThatMatch) {
    TlsFiles files;
    EXPECT_EQ(tls_errors(files, "cert.pem", "key.pem"), Lines{});
}

TEST(ConfigRelais, TlsKeyThatDoesNotMatchTheCertificate) {
    TlsFiles files;
    const std::string expected =
        "relais.yaml:4:18: server.tls.private_key: does not match server.tls.certificate "
        "(expected the private key of the server certificate, the first of the chain)";
    EXPECT_EQ(tls_errors(files, "cert.pem", "other.pem"), Lines{expected});
    EXPECT_EQ(tls_errors(files, "cert.pem", "rsa.pem"), Lines{expected});
}

TEST(ConfigRelais, TlsFilesThatCannotBeRead) {
    TlsFiles files;
    EXPECT_EQ(tls_errors(files, "missing.pem", "missing-key.pem"),
              (Lines{"relais.yaml:3:18: server.tls.certificate: expected a readable PEM file (No "
                     "such file or directory)",
                     "relais.yaml:4:18: server.tls.private_key: expected a readable PEM file (No "
                     "such file or directory)"}));
    EXPECT_EQ(tls_errors(files, ".", "key.pem"),
              Lines{"relais.yaml:3:18: server.tls.certificate: expected a readable PEM file (Is a "
                    "directory)"});
}

TEST(ConfigRelais, TlsFilesThatAreNotPem) {
    TlsFiles files;
    EXPECT_EQ(tls_errors(files, "junk.pem", "key.pem"),
              Lines{"relais.yaml:3:18: server.tls.certificate: expected a PEM certificate chain, "
                    "server certificate first (OpenSSL: no start line)"});
    // The key in place of the certificate and the certificate in place of
    // the key: never quoted.
    const Lines swapped = tls_errors(files, "key.pem", "cert.pem");
    ASSERT_EQ(swapped.size(), 2U);
    EXPECT_TRUE(
        swapped[0].starts_with("relais.yaml:3:18: server.tls.certificate: expected a PEM "
                               "certificate chain, server certificate first (OpenSSL: "))
        << swapped[0];
    EXPECT_TRUE(
        swapped[1].starts_with("relais.yaml:4:18: server.tls.private_key: expected a PEM "
                               "private key without a passphrase (OpenSSL: "))
        << swapped[1];
    for (const auto& line : swapped) {
        EXPECT_EQ(line.find("BEGIN"), std::string::npos) << line;
    }
}

TEST(ConfigRelais, TlsKeyWithAPassphraseIsRefusedWithoutPrompting) {
    TlsFiles files;
    const Lines errors = tls_errors(files, "cert.pem", "locked.pem");
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_TRUE(
        errors[0].starts_with("relais.yaml:4:18: server.tls.private_key: expected a PEM "
                              "private key without a passphrase (OpenSSL: "))
        << errors[0];
}

TEST(ConfigRelais, TlsPathFromAMissingSecretIsReportedOnce) {
    TlsFiles files;
    unsetenv("RELAIS_TEST_NOT_SET");
    EXPECT_EQ(tls_errors(files, "${env:RELAIS_TEST_NOT_SET}", "key.pem"),
              Lines{"relais.yaml:3:18: environment variable 'RELAIS_TEST_NOT_SET' is not set"});
}

TEST(ConfigRelais, LogFileThatExistsIsAppendedToNotTruncated) {
    test::TempDir dir;
    const auto log = dir.write("relais.log", "earlier line\n");
    EXPECT_EQ(errors_of(dir, "logging: {file: relais.log}\n"), Lines{});
    EXPECT_EQ(read_text(log), "earlier line\n");
}

TEST(ConfigRelais, LogFileNotThereYetIsNotCreated) {
    test::TempDir dir;
    std::filesystem::create_directories(dir.path() / "log");
    EXPECT_EQ(errors_of(dir, "logging: {file: log/relais.log}\n"), Lines{});
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "log/relais.log"));
}

TEST(ConfigRelais, LogFileThatCannotBeWritten) {
    test::TempDir dir;
    std::filesystem::create_directories(dir.path() / "log");
    EXPECT_EQ(errors_of(dir, "logging:\n  file: log\n"),
              Lines{"relais.yaml:2:9: logging.file: expected a file relais can append to (Is a "
                    "directory)"});
    EXPECT_EQ(errors_of(dir, "logging:\n  file: missing/relais.log\n"),
              Lines{"relais.yaml:2:9: logging.file: expected a file in an existing directory (No "
                    "such file or directory)"});
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "missing"));
}

TEST(ConfigRelais, LogFileWithoutPermission) {
    if (geteuid() == 0) {
        GTEST_SKIP() << "root may write anywhere";
    }
    namespace fs = std::filesystem;
    test::TempDir dir;
    dir.write("log/relais.log", "");
    fs::permissions(dir.path() / "log/relais.log", fs::perms::owner_read);
    fs::permissions(dir.path() / "log", fs::perms::owner_read | fs::perms::owner_exec);
    EXPECT_EQ(errors_of(dir, "logging:\n  file: log/relais.log\n"),
              Lines{"relais.yaml:2:9: logging.file: expected a file relais can append to "
                    "(Permission denied)"});
    EXPECT_EQ(errors_of(dir, "logging:\n  file: log/new.log\n"),
              Lines{"relais.yaml:2:9: logging.file: expected a file relais can create, in a "
                    "writable directory (Permission denied)"});
    fs::permissions(dir.path() / "log", fs::perms::owner_all);
}

TEST(ConfigRelais, TimeoutsHaveAMinimum) {
    test::TempDir dir;
    EXPECT_EQ(errors_of(dir, "server:\n  limits:\n    read_timeout: 0s\n    idle_timeout: 99ms\n"),
              (Lines{"relais.yaml:3:19: server.limits.read_timeout: expected a duration of at "
                     "least 100ms",
                     "relais.yaml:4:19: server.limits.idle_timeout: expected a duration of at "
                     "least 100ms"}));
    EXPECT_EQ(errors_of(dir, "server:\n  limits: {read_timeout: 0ms, idle_timeout: 0h}\n"),
              (Lines{"relais.yaml:2:26: server.limits.read_timeout: expected a duration of at "
                     "least 100ms",
                     "relais.yaml:2:45: server.limits.idle_timeout: expected a duration of at "
                     "least 100ms"}));
    const auto config = load_relais_config(dir.write(
        "relais.yaml", "server:\n  limits: {read_timeout: 100ms, idle_timeout: 100ms}\n"));
    EXPECT_EQ(config.server.limits.read_timeout, std::chrono::milliseconds(100));
    EXPECT_EQ(config.server.limits.idle_timeout, std::chrono::milliseconds(100));
}

TEST(ConfigRelais, PublicUrlEndsWithASlash) {
    test::TempDir dir;
    EXPECT_TRUE(load_relais_config(dir.write("relais.yaml", "{}\n")).server.public_url.empty());
    const auto config = load_relais_config(
        dir.write("relais.yaml", "server: {public_url: \"https://relais.example.org/gru\"}\n"));
    EXPECT_EQ(config.server.public_url, "https://relais.example.org/gru/");
    EXPECT_EQ(errors_of(dir, "server:\n  public_url: relais.example.org\n"),
              (Lines{"relais.yaml:2:15: server.public_url: expected a string matching "
                     "^https?://[^/?#]+"}));
    EXPECT_EQ(errors_of(dir, "server:\n  public_url: \"https://relais.example.org/?a=1\"\n"),
              (Lines{"relais.yaml:2:15: server.public_url: expected a base URL without query or "
                     "fragment"}));
}

TEST(ConfigRelais, ZeroShutdownGraceMeansNoWait) {
    test::TempDir dir;
    const auto config =
        load_relais_config(dir.write("relais.yaml", "server: {shutdown_grace: 0s}\n"));
    EXPECT_EQ(config.server.shutdown_grace, std::chrono::milliseconds(0));
}

}  // namespace
}  // namespace relais
