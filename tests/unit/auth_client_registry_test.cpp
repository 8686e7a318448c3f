#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "auth/client_registry.hpp"
#include "auth/nonce_cache.hpp"
#include "auth/publik_signature.hpp"
#include "core/runtime.hpp"

namespace relais::auth {
namespace {

using namespace std::chrono_literals;

const std::chrono::system_clock::time_point now{std::chrono::seconds(1'709'288'430)};

std::unique_ptr<ConnectorEntry> connector(std::string slug, std::string family,
                                          std::vector<std::string> endpoints) {
    auto entry = std::make_unique<ConnectorEntry>();
    entry->kind = "rest";
    entry->slug = std::move(slug);
    entry->family = std::move(family);
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
        entry->endpoint_index.emplace(endpoints[i], i);
    }
    return entry;
}

ClientConfig client(std::string name, std::vector<Credentials> credentials,
                    std::vector<std::string> families,
                    std::map<std::string, std::vector<std::string>> grants,
                    std::vector<std::string> allow_from = {}) {
    ClientConfig c;
    c.name = std::move(name);
    c.credentials = std::move(credentials);
    c.families = std::move(families);
    c.grants = std::move(grants);
    c.allow_from = std::move(allow_from);
    return c;
}

class AuthClientRegistry : public ::testing::Test {
protected:
    AuthClientRegistry() {
        connectors.push_back(connector("adresses", "reference", {"search", "reverse"}));
        connectors.push_back(
            connector("etat-civil", "etat-civil-citoyennete", {"birth", "death", "marriage"}));
        config.file = "relais.yaml";
        config.locations = SourceMap("relais.yaml");
        config.clients.push_back(client("wcs", {PublikCredentials{"wcs.example.org", "wcs-key"}},
                                        {"reference", "etat-civil-citoyennete"},
                                        {{"adresses", {}}, {"etat-civil", {"birth", "death"}}}));
        config.clients.push_back(client("demo", {ApiKeyCredentials{"demo-api-key"}}, {"reference"},
                                        {{"adresses", {"search"}}}));
        config.clients.push_back(client("gec", {BasicCredentials{"gec", "gec-password"}},
                                        {"reference"}, {{"adresses", {}}},
                                        {"10.0.0.0/8", "::1/128"}));
    }

    const ClientRegistry& registry() {
        if (!registry_) {
            registry_ = std::make_unique<ClientRegistry>(config, connectors);
        }
        return *registry_;
    }

    AuthResult call(std::string_view query, std::vector<Header> headers = {},
                    const char* remote = "127.0.0.1",
                    std::chrono::system_clock::time_point when = now) {
        const CallerInfo caller{query, headers, boost::asio::ip::make_address(remote), when};
        return registry().authenticate(caller, nonces);
    }

    std::string signed_query(std::string_view query, std::string_view key = "wcs-key",
                             std::chrono::system_clock::time_point when = now) {
        return sign_query(query, key, SignatureAlgorithm::sha256, when, random_nonce());
    }

    static void expect_error(const AuthResult& r, ErrorClass error) {
        EXPECT_EQ(r.client, nullptr);
        ASSERT_TRUE(r.error) << "accepted";
        EXPECT_EQ(describe(*r.error).slug, describe(error).slug) << r.reason;
    }

    void expect_client(const AuthResult& r, std::string_view name) {
        ASSERT_FALSE(r.error) << describe(*r.error).slug << ": " << r.reason;
        ASSERT_NE(r.client, nullptr);
        EXPECT_EQ(ClientRegistry::name(*r.client), name);
    }

    std::vector<ConfigError> construction_errors() {
        try {
            ClientRegistry r(config, connectors);
        } catch (const ConfigErrors& e) {
            return e.errors();
        }
        return {};
    }

    RelaisConfig config;
    std::vector<std::unique_ptr<ConnectorEntry>> connectors;
    NonceCache nonces;
    std::unique_ptr<ClientRegistry> registry_;
};

TEST_F(AuthClientRegistry, PublikSignatureAccepted) {
    expect_client(call(signed_query("orig=wcs.example.org&q=rue")), "wcs");
}

TEST_F(AuthClientRegistry, PublikWrongKey) {
    const auto r = call(signed_query("orig=wcs.example.org", "not-the-key"));
    expect_error(r, ErrorClass::invalid_signature);
    EXPECT_EQ(r.reason, "signature mismatch");
}

TEST_F(AuthClientRegistry, PublikUnknownOrig) {
    const auto r = call(signed_query("orig=elsewhere.example.org"));
    expect_error(r, ErrorClass::invalid_credentials);
    EXPECT_EQ(r.reason, "unknown orig");
}

TEST_F(AuthClientRegistry, PublikExpiredAndFuture) {
    const auto old = call(signed_query("orig=wcs.example.org", "wcs-key", now - 31s));
    expect_error(old, ErrorClass::expired_signature);
    EXPECT_EQ(old.reason, "timestamp 31 s in the past");
    expect_error(call(signed_query("orig=wcs.example.org", "wcs-key", now + 31s)),
                 ErrorClass::expired_signature);
    expect_client(call(signed_query("orig=wcs.example.org", "wcs-key", now - 29s)), "wcs");
    expect_client(call(signed_query("orig=wcs.example.org", "wcs-key", now + 29s)), "wcs");
}

TEST_F(AuthClientRegistry, PublikReplayedNonce) {
    const std::string q = signed_query("orig=wcs.example.org");
    expect_client(call(q), "wcs");
    const auto again = call(q, {}, "127.0.0.1", now + 5s);
    expect_error(again, ErrorClass::replayed_nonce);
    EXPECT_EQ(again.reason, "nonce already used");
}

TEST_F(AuthClientRegistry, ReplayAtTheEdgeOfTheWindowIsRefused) {
    // 30 s after its timestamp a request still passes the clock check: its
    // nonce must still be known then.
    const std::string q = signed_query("orig=wcs.example.org");
    expect_client(call(q), "wcs");
    expect_error(call(q, {}, "127.0.0.1", now + 30s), ErrorClass::replayed_nonce);
    expect_error(call(q, {}, "127.0.0.1", now + 30s + 1ns), ErrorClass::expired_signature);
}

TEST_F(AuthClientRegistry, FutureTimestampKeepsItsNonceAsLongAsItIsValid) {
    // Signed 30 s ahead: valid until now + 60 s, so remembered until then.
    const std::string q = signed_query("orig=wcs.example.org", "wcs-key", now + 30s);
    expect_client(call(q), "wcs");
    expect_error(call(q, {}, "127.0.0.1", now + 45s), ErrorClass::replayed_nonce);
}

TEST_F(AuthClientRegistry, ForgedRequestsDoNotBurnNonces) {
    const std::string good = sign_query("orig=wcs.example.org", "wcs-key",
                                        SignatureAlgorithm::sha256, now, "fixed-nonce");
    const std::string forged =
        sign_query("orig=wcs.example.org", "guess", SignatureAlgorithm::sha256, now, "fixed-nonce");
    expect_error(call(forged), ErrorClass::invalid_signature);
    expect_client(call(good), "wcs");
}

TEST_F(AuthClientRegistry, PublikMalformed) {
    expect_error(call(signed_query("orig=wcs.example.org") + "&x=1"),
                 ErrorClass::invalid_signature);
    expect_error(call("orig=wcs.example.org&algo=md5&timestamp=2024-03-01T10%3A20%3A30Z"
                      "&nonce=n&signature=AAAA"),
                 ErrorClass::invalid_signature);
    expect_error(call("orig=wcs.example.org&q=1"), ErrorClass::invalid_signature);
}

TEST_F(AuthClientRegistry, NonceCacheFullIsOverloaded) {
    NonceCache tiny(1, 1);
    std::vector<Header> none;
    const std::string q1 = signed_query("orig=wcs.example.org");
    const std::string q2 = signed_query("orig=wcs.example.org");
    const auto remote = boost::asio::ip::make_address("127.0.0.1");
    EXPECT_FALSE(registry().authenticate({q1, none, remote, now}, tiny).error);
    const auto r = registry().authenticate({q2, none, remote, now}, tiny);
    expect_error(r, ErrorClass::overloaded);
    EXPECT_EQ(r.reason, "nonce cache full");
}

TEST_F(AuthClientRegistry, ApiKeyInQuery) {
    expect_client(call("q=x&apikey=demo-api-key"), "demo");
    expect_error(call("apikey=wrong"), ErrorClass::invalid_credentials);
    expect_error(call("apikey="), ErrorClass::invalid_credentials);
    expect_error(call("apikey=demo-api-key&apikey=demo-api-key"), ErrorClass::invalid_credentials);
}

TEST_F(AuthClientRegistry, ApiKeyAsBearer) {
    expect_client(call("", {{"Authorization", "Bearer demo-api-key"}}), "demo");
    expect_client(call("", {{"authorization", "bearer   demo-api-key "}}), "demo");
    const auto r = call("", {{"Authorization", "Bearer wrong"}});
    expect_error(r, ErrorClass::invalid_credentials);
    EXPECT_EQ(r.reason, "unknown API key");
}

TEST_F(AuthClientRegistry, Basic) {
    // base64("gec:gec-password"), base64("gec:nope"), base64("nobody:gec-password")
    expect_client(call("", {{"Authorization", "Basic Z2VjOmdlYy1wYXNzd29yZA=="}}, "10.2.3.4"),
                  "gec");
    expect_error(call("", {{"Authorization", "Basic Z2VjOm5vcGU="}}, "10.2.3.4"),
                 ErrorClass::invalid_credentials);
    expect_error(call("", {{"Authorization", "Basic bm9ib2R5OmdlYy1wYXNzd29yZA=="}}, "10.2.3.4"),
                 ErrorClass::invalid_credentials);
    expect_error(call("", {{"Authorization", "Basic !!!"}}, "10.2.3.4"),
                 ErrorClass::invalid_credentials);
}

TEST_F(AuthClientRegistry, MissingCredentials) {
    expect_error(call("q=rue"), ErrorClass::missing_credentials);
    expect_error(call(""), ErrorClass::missing_credentials);
    expect_error(call("", {{"Authorization", "Digest abc"}}), ErrorClass::missing_credentials);
}

TEST_F(AuthClientRegistry, AddressAllowList) {
    const std::vector<Header> basic{{"Authorization", "Basic Z2VjOmdlYy1wYXNzd29yZA=="}};
    expect_client(call("", basic, "10.200.1.1"), "gec");
    expect_client(call("", basic, "::1"), "gec");
    expect_client(call("", basic, "::ffff:10.0.0.1"), "gec");
    const auto r = call("", basic, "127.0.0.1");
    expect_error(r, ErrorClass::address_not_allowed);
    expect_error(call("", basic, "::2"), ErrorClass::address_not_allowed);
}

TEST_F(AuthClientRegistry, AddressRefusedBeforeNonceIsUsed) {
    config.clients[0].allow_from = {"10.0.0.0/8"};
    const std::string q = signed_query("orig=wcs.example.org");
    expect_error(call(q, {}, "127.0.0.1"), ErrorClass::address_not_allowed);
    expect_client(call(q, {}, "10.0.0.1"), "wcs");
}

TEST_F(AuthClientRegistry, ReasonsNeverCarrySecrets) {
    const std::string q = signed_query("orig=wcs.example.org", "canary-key");
    for (const auto& r :
         {call(q), call("apikey=canary-key"), call("", {{"Authorization", "Bearer canary-key"}}),
          call("", {{"Authorization", "Basic Y2FuYXJ5OmNhbmFyeS1rZXk="}})}) {
        ASSERT_TRUE(r.error);
        EXPECT_EQ(r.reason.find("canary"), std::string::npos) << r.reason;
    }
}

TEST_F(AuthClientRegistry, GrantsAllEndpoints) {
    const auto r = call(signed_query("orig=wcs.example.org"));
    ASSERT_NE(r.client, nullptr);
    EXPECT_TRUE(registry().granted(*r.client, *connectors[0], "search"));
    EXPECT_TRUE(registry().granted(*r.client, *connectors[0], "reverse"));
}

TEST_F(AuthClientRegistry, GrantsListedEndpoints) {
    const auto wcs = call(signed_query("orig=wcs.example.org"));
    ASSERT_NE(wcs.client, nullptr);
    EXPECT_TRUE(registry().granted(*wcs.client, *connectors[1], "birth"));
    EXPECT_TRUE(registry().granted(*wcs.client, *connectors[1], "death"));
    EXPECT_FALSE(registry().granted(*wcs.client, *connectors[1], "marriage"));

    const auto demo = call("apikey=demo-api-key");
    ASSERT_NE(demo.client, nullptr);
    EXPECT_TRUE(registry().granted(*demo.client, *connectors[0], "search"));
    EXPECT_FALSE(registry().granted(*demo.client, *connectors[0], "reverse"));
    EXPECT_FALSE(registry().granted(*demo.client, *connectors[1], "birth"));
}

TEST_F(AuthClientRegistry, FamilyMismatchAtConstruction) {
    config.locations.add("/clients/demo/grants/etat-civil", {14, 7});
    config.clients[1].grants["etat-civil"] = {};
    const auto errors = construction_errors();
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(std::string(errors[0].what()),
              "relais.yaml:14:7: client 'demo' is granted connector 'etat-civil' of family "
              "'etat-civil-citoyennete' but its families are [reference]");
}

TEST_F(AuthClientRegistry, UnknownConnectorAndEndpointAtConstruction) {
    config.locations.add("/clients/wcs/grants/cadastre", {9, 9});
    config.locations.add("/clients/demo/grants/adresses/1", {20, 30});
    config.clients[0].grants["cadastre"] = {};
    config.clients[1].grants["adresses"] = {"search", "geocode"};
    const auto errors = construction_errors();
    ASSERT_EQ(errors.size(), 2u);
    EXPECT_EQ(std::string(errors[0].what()),
              "relais.yaml:9:9: client 'wcs' is granted unknown connector 'cadastre' "
              "(loaded connectors: adresses, etat-civil)");
    EXPECT_EQ(std::string(errors[1].what()),
              "relais.yaml:20:30: client 'demo': connector 'adresses' has no endpoint 'geocode' "
              "(its endpoints: reverse, search)");
}

TEST_F(AuthClientRegistry, DuplicateCredentialsAtConstructionNeverQuoteSecrets) {
    config.clients.push_back(client("copy", {ApiKeyCredentials{"demo-api-key"}}, {}, {}));
    config.clients.push_back(client("bad-net", {ApiKeyCredentials{"other"}}, {}, {}, {"10.0.0/8"}));
    const auto errors = construction_errors();
    ASSERT_EQ(errors.size(), 2u);
    EXPECT_EQ(errors[0].message(), "client 'copy' has the same apikey as client 'demo'");
    EXPECT_EQ(errors[1].message(),
              "client 'bad-net': '10.0.0/8' is not an address or a CIDR block (e.g. 10.0.0.0/8, "
              "::1/128)");
}

// WS-Security UsernameToken, against the `basic:` credentials.

constexpr std::string_view token_nonce = "MDEyMzQ1Njc4OWFiY2RlZg==";  // "0123456789abcdef"
constexpr std::string_view token_created = "2024-03-01T10:20:30Z";    // `now`
// base64(sha1("0123456789abcdef" + token_created + "gec-password")), by Python's hashlib
constexpr std::string_view gec_digest = "eBiIaor2oXcy+7cfzP8o0g7ZP4c=";

UsernameToken text_token(std::string user, std::string password) {
    return {std::move(user), std::move(password), std::string(password_text_type), "", ""};
}

UsernameToken digest_token(std::string user, std::string digest,
                           std::string created = std::string(token_created),
                           std::string nonce = std::string(token_nonce)) {
    return {std::move(user), std::move(digest), std::string(password_digest_type), std::move(nonce),
            std::move(created)};
}

class UsernameTokenAuth : public AuthClientRegistry {
protected:
    AuthResult token_call(const UsernameToken& token, const char* remote = "10.2.3.4",
                          std::chrono::system_clock::time_point when = now) {
        const std::vector<Header> headers;
        const CallerInfo caller{"", headers, boost::asio::ip::make_address(remote), when};
        return registry().authenticate_username_token(token, caller, nonces);
    }
};

TEST(UsernameToken, DigestIsBase64OfSha1OfNonceCreatedAndPassword) {
    EXPECT_EQ(password_digest("0123456789abcdef", token_created, "gec-password"), gec_digest);
}

TEST(UsernameToken, CreatedIsAnXsdDateTime) {
    EXPECT_EQ(parse_created("2024-03-01T10:20:30Z"), now);
    EXPECT_EQ(parse_created("2024-03-01T10:20:30.250Z"), now + 250ms);
    EXPECT_EQ(parse_created("2024-03-01T10:20:30.123456Z"), now + 123ms);
    EXPECT_EQ(parse_created("2024-03-01T12:20:30+02:00"), now);
    EXPECT_EQ(parse_created("2024-03-01T09:50:30.5-00:30"), now + 500ms);
    for (const char* bad :
         {"", "2024-03-01T10:20:30", "2024-03-01 10:20:30Z", "2024-03-01T10:20:30.Z",
          "2024-03-01T10:20:30+2:00", "2024-03-01T10:20:30+15:00", "2024-13-01T10:20:30Z",
          "2024-03-01T10:20:30ZZ"}) {
        EXPECT_FALSE(parse_created(bad)) << bad;
    }
}

TEST_F(UsernameTokenAuth, PasswordText) {
    expect_client(token_call(text_token("gec", "gec-password")), "gec");
    // Without Type, a password is text.
    expect_client(token_call({"gec", "gec-password", "", "", ""}), "gec");
    expect_error(token_call(text_token("gec", "nope")), ErrorClass::invalid_credentials);
    expect_error(token_call(text_token("nobody", "gec-password")), ErrorClass::invalid_credentials);
    expect_error(token_call({"gec", "gec-password", "urn:other", "", ""}),
                 ErrorClass::invalid_credentials);
}

TEST_F(UsernameTokenAuth, PasswordDigest) {
    expect_client(token_call(digest_token("gec", std::string(gec_digest))), "gec");
    // The Created the digest was computed over, in another form, is another digest.
    expect_error(
        token_call(digest_token("gec", std::string(gec_digest), "2024-03-01T10:20:30.000Z")),
        ErrorClass::invalid_credentials);
    expect_error(token_call(digest_token("gec", "eBiIaor2oXcy+7cfzP8o0g7ZP4d=")),
                 ErrorClass::invalid_credentials);
    expect_error(token_call(digest_token("nobody", std::string(gec_digest))),
                 ErrorClass::invalid_credentials);
    // The plain password is no digest.
    expect_error(token_call(digest_token("gec", "gec-password")), ErrorClass::invalid_credentials);
}

TEST_F(UsernameTokenAuth, DigestNeedsNonceAndCreated) {
    expect_error(token_call(digest_token("gec", std::string(gec_digest), "")),
                 ErrorClass::invalid_credentials);
    expect_error(
        token_call(digest_token("gec", std::string(gec_digest), std::string(token_created), "")),
        ErrorClass::invalid_credentials);
    expect_error(token_call(digest_token("gec", std::string(gec_digest), std::string(token_created),
                                         "not base64")),
                 ErrorClass::invalid_credentials);
}

TEST_F(UsernameTokenAuth, ReplayedNonce) {
    expect_client(token_call(digest_token("gec", std::string(gec_digest))), "gec");
    const auto again =
        token_call(digest_token("gec", std::string(gec_digest)), "10.2.3.4", now + 10s);
    expect_error(again, ErrorClass::replayed_nonce);
    // Remembered as long as its Created passes: 5 minutes after it.
    expect_error(token_call(digest_token("gec", std::string(gec_digest)), "10.2.3.4", now + 300s),
                 ErrorClass::replayed_nonce);
}

TEST_F(UsernameTokenAuth, StaleOrFutureCreated) {
    const auto past =
        token_call(digest_token("gec", std::string(gec_digest)), "10.2.3.4", now + 301s);
    expect_error(past, ErrorClass::expired_signature);
    EXPECT_EQ(past.reason, "created 301 s in the past");
    const auto future =
        token_call(digest_token("gec", std::string(gec_digest)), "10.2.3.4", now - 301s);
    expect_error(future, ErrorClass::expired_signature);
    EXPECT_EQ(future.reason, "created 301 s in the future");
    // Refused tokens did not use up the nonce: the same token, in time, passes.
    expect_client(token_call(digest_token("gec", std::string(gec_digest)), "10.2.3.4", now + 300s),
                  "gec");
}

TEST_F(UsernameTokenAuth, AddressAllowListApplies) {
    expect_error(token_call(text_token("gec", "gec-password"), "127.0.0.1"),
                 ErrorClass::address_not_allowed);
    expect_error(token_call(digest_token("gec", std::string(gec_digest)), "127.0.0.1"),
                 ErrorClass::address_not_allowed);
    // ... before the nonce is recorded.
    expect_client(token_call(digest_token("gec", std::string(gec_digest))), "gec");
}

TEST_F(UsernameTokenAuth, ReasonsNeverCarrySecrets) {
    for (const auto& r : {token_call(text_token("gec", "canary-password")),
                          token_call(digest_token("canary-user", std::string(gec_digest))),
                          token_call(digest_token("gec", "canary", "canary-time"))}) {
        ASSERT_TRUE(r.error);
        EXPECT_EQ(r.reason.find("canary"), std::string::npos) << r.reason;
    }
}

TEST(AuthCredentialParameters, Names) {
    for (const char* name : {"orig", "algo", "timestamp", "nonce", "signature", "apikey"}) {
        EXPECT_TRUE(is_credential_parameter(name)) << name;
    }
    EXPECT_FALSE(is_credential_parameter("q"));
    EXPECT_FALSE(is_credential_parameter("Signature"));
}

}  // namespace
}  // namespace relais::auth
