// The franceconnect connector as the core sees it, without a provider:
// what its file may say (and the refusals, at the right line), its
// endpoints, the login redirect built from explicit endpoints, and the
// refusals of callback, identity and logout that need no provider.
#include "franceconnect/franceconnect_connector.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <memory>
#include <string>

#include "core/connector.hpp"
#include "franceconnect/connector_spec.hpp"

namespace relais::franceconnect {
namespace {

constexpr std::size_t login = 0;
constexpr std::size_t callback = 1;
constexpr std::size_t identity = 2;
constexpr std::size_t logout = 3;

struct Loaded {
    rapidjson::Document document;
    SourceMap map{"fc.yaml"};
};

/// The base file, then `extra` (JSON members, without braces) merged over
/// it: later members win.
std::unique_ptr<Loaded> load(const std::string& extra = {}) {
    auto loaded = std::make_unique<Loaded>();
    rapidjson::Document base;
    base.Parse(R"({"slug": "fc", "kind": "franceconnect", "family": "etat-civil-citoyennete",
        "provider": {"issuer": "https://idp.example/api/v2",
                     "authorization_endpoint": "https://idp.example/api/v2/authorize?tenant=t1",
                     "token_endpoint": "https://idp.example/api/v2/token",
                     "userinfo_endpoint": "https://idp.example/api/v2/userinfo",
                     "jwks_uri": "https://idp.example/api/v2/jwks",
                     "end_session_endpoint": "https://idp.example/api/v2/session/end"},
        "client_id": "client-1", "client_secret": "secret-1",
        "redirect_uri": "https://relais.example/franceconnect/fc/callback",
        "post_logout_redirect_uri": "https://relais.example/franceconnect/fc/logout",
        "return_urls": ["https://gru.example", "https://other.example/demarches/"],
        "endpoints": {"login": {}, "callback": {}, "identity": {}, "logout": {}}})");
    rapidjson::Document patch;
    patch.Parse(("{" + extra + "}").c_str());
    for (auto& m : patch.GetObject()) {
        rapidjson::Value name(m.name, base.GetAllocator());
        rapidjson::Value value(m.value, base.GetAllocator());
        base.EraseMember(name);
        base.AddMember(name, value, base.GetAllocator());
    }
    loaded->document.Swap(base);
    loaded->map.add("/provider", SourcePosition{4, 3});
    loaded->map.add("/return_urls", SourcePosition{9, 3});
    loaded->map.add("/scope", SourcePosition{12, 3});
    loaded->map.add("/handover_ttl", SourcePosition{13, 3});
    loaded->map.add("/algorithms", SourcePosition{14, 3});
    return loaded;
}

ConnectorSource source_of(const Loaded& loaded, const std::string& slug = "fc") {
    return ConnectorSource{loaded.document,          loaded.map, slug, "franceconnect",
                           "etat-civil-citoyennete", {}};
}

std::string error_of(const std::string& extra) {
    const auto loaded = load(extra);
    try {
        load_connector_spec(source_of(*loaded));
    } catch (const ConfigError& e) {
        return std::to_string(e.position().line) + ": " + e.message();
    }
    return "accepted";
}

HttpResponse call(const Connector& connector, std::size_t endpoint, QueryParams query,
                  std::string method = "GET", std::vector<Header> headers = {}) {
    boost::asio::io_context io;
    IncomingRequest r;
    r.method = std::move(method);
    r.query = std::move(query);
    r.headers = std::move(headers);
    auto future = boost::asio::co_spawn(io, connector.handle(endpoint, r), boost::asio::use_future);
    io.run();
    return future.get();
}

const std::string* location_of(const HttpResponse& response) {
    return find_header(response.headers, "Location");
}

/// The Cookie header a browser sends back after `response`.
std::vector<Header> cookie_after(const HttpResponse& response) {
    const std::string* set = find_header(response.headers, "Set-Cookie");
    return {Header{"Cookie", "other=1; " + (set == nullptr ? "" : set->substr(0, set->find(';')))}};
}

std::string state_of(const HttpResponse& login_answer) {
    const std::string location = *location_of(login_answer);
    const std::size_t at = location.find("&state=") + 7;
    return location.substr(at, location.find('&', at) - at);
}

std::string err_class_of(const HttpResponse& response) {
    rapidjson::Document doc;
    doc.Parse(response.body.c_str());
    return doc.HasMember("err_class") ? doc["err_class"].GetString() : "";
}

TEST(FranceconnectSpec, DefaultsAreFranceConnects) {
    const auto loaded = load();
    const ConnectorSpec spec = load_connector_spec(source_of(*loaded));
    EXPECT_EQ(spec.scope, default_scope);
    EXPECT_EQ(spec.acr_values, "eidas1");
    EXPECT_EQ(spec.prompt, "");
    EXPECT_EQ(spec.client_auth, ClientAuth::secret_post);
    EXPECT_EQ(spec.algorithms, (std::vector<Algorithm>{Algorithm::rs256, Algorithm::es256}));
    EXPECT_EQ(spec.login_ttl, std::chrono::minutes(10));
    EXPECT_EQ(spec.handover_ttl, std::chrono::seconds(60));
    EXPECT_EQ(spec.provider.endpoints.token_endpoint, "https://idp.example/api/v2/token");
    EXPECT_TRUE(spec.provider.discovery.empty());
}

TEST(FranceconnectSpec, ReturnUrlsWithoutPathEndAtTheHost) {
    const auto loaded = load();
    const ConnectorSpec spec = load_connector_spec(source_of(*loaded));
    EXPECT_EQ(spec.return_urls, (std::vector<std::string>{"https://gru.example/",
                                                          "https://other.example/demarches/"}));
}

TEST(FranceconnectSpec, SettingsAreRead) {
    const auto loaded =
        load(R"("provider": {"discovery": "https://fcp-low.integ01.dev-franceconnect.fr/api/v2"},)"
             R"("client_auth": "client_secret_basic", "algorithms": ["ES256", "HS256", "ES256"],)"
             R"("scope": "openid given_name", "acr_values": "eidas2", "prompt": "login",)"
             R"("login_ttl": "5m", "handover_ttl": "30s", "max_logins": 3, "max_handovers": 2)");
    const ConnectorSpec spec = load_connector_spec(source_of(*loaded));
    EXPECT_EQ(spec.provider.discovery, "https://fcp-low.integ01.dev-franceconnect.fr/api/v2");
    EXPECT_EQ(spec.client_auth, ClientAuth::secret_basic);
    EXPECT_EQ(spec.algorithms, (std::vector<Algorithm>{Algorithm::es256, Algorithm::hs256}));
    EXPECT_EQ(spec.scope, "openid given_name");
    EXPECT_EQ(spec.acr_values, "eidas2");
    EXPECT_EQ(spec.prompt, "login");
    EXPECT_EQ(spec.login_ttl, std::chrono::minutes(5));
    EXPECT_EQ(spec.handover_ttl, std::chrono::seconds(30));
    EXPECT_EQ(spec.max_logins, 3u);
    EXPECT_EQ(spec.max_handovers, 2u);
}

TEST(FranceconnectSpec, MistakesAreRefusedWhereTheyAre) {
    EXPECT_EQ(error_of(R"("provider": {"discovery": "https://idp.example",)"
                       R"( "token_endpoint": "https://idp.example/token"})"),
              "4: write either discovery or the provider's endpoints, not both: with discovery, "
              "they come from its document");
    EXPECT_EQ(error_of(R"("provider": {"issuer": "https://idp.example"})"),
              "4: without discovery, write authorization_endpoint (and the other endpoints)");
    EXPECT_EQ(error_of(R"("return_urls": ["https://gru.example/?a=1"])"),
              "9: base_url must not have a query or a fragment");
    EXPECT_EQ(error_of(R"("scope": "given_name")"), "12: the scope must include openid");
    EXPECT_EQ(error_of(R"("handover_ttl": "10m")"),
              "13: expected a duration from 1s to 5m: the identity is kept in memory meanwhile");
    EXPECT_EQ(error_of(R"("algorithms": ["none"])"), "14: expected RS256, ES256 or HS256");
}

TEST(FranceconnectSpec, Hs256AloneNeedsNoJwks) {
    const std::string provider =
        R"("provider": {"issuer": "https://idp.example", "authorization_endpoint": )"
        R"("https://idp.example/a", "token_endpoint": "https://idp.example/t", )"
        R"("userinfo_endpoint": "https://idp.example/u"})";
    EXPECT_EQ(error_of(provider + R"(, "algorithms": ["HS256"])"), "accepted");
    EXPECT_EQ(error_of(provider),
              "4: write jwks_uri: RS256 and ES256 signatures are checked with the provider's "
              "keys");
}

TEST(FranceconnectConnector, EndpointsAreFixedAndOnlyIdentityNeedsCredentials) {
    const auto loaded = load();
    const auto connector = make_franceconnect_connector(source_of(*loaded, "unit-endpoints"));
    const auto endpoints = connector->endpoints();
    ASSERT_EQ(endpoints.size(), 4u);
    EXPECT_EQ(endpoints[login].name, "login");
    EXPECT_EQ(endpoints[callback].name, "callback");
    EXPECT_EQ(endpoints[identity].name, "identity");
    EXPECT_EQ(endpoints[logout].name, "logout");
    for (const auto& e : endpoints) {
        EXPECT_TRUE(e.personal_data);
        EXPECT_FALSE(e.async);
        EXPECT_EQ(e.browser, e.name != "identity");
    }
}

TEST(FranceconnectConnector, LoginRedirectsToTheProviderWithFreshStateAndNonce) {
    const auto loaded = load(R"("prompt": "login")");
    const auto connector = make_franceconnect_connector(source_of(*loaded, "unit-login"));
    const QueryParams next{{"next", "https://gru.example/demande?id=1"}};
    const HttpResponse first = call(*connector, login, next);
    const HttpResponse second = call(*connector, login, next);
    ASSERT_EQ(first.status, 302u) << first.body;
    const std::string* location = location_of(first);
    ASSERT_NE(location, nullptr);
    const std::string prefix =
        "https://idp.example/api/v2/authorize?tenant=t1&response_type=code&client_id=client-1"
        "&redirect_uri=https%3A%2F%2Frelais.example%2Ffranceconnect%2Ffc%2Fcallback"
        "&scope=openid+given_name+family_name+birthdate+gender+birthplace+birthcountry+email+"
        "preferred_username&state=";
    EXPECT_EQ(location->substr(0, prefix.size()), prefix);
    EXPECT_NE(location->find("&acr_values=eidas1&prompt=login"), std::string::npos);
    EXPECT_NE(*location, *location_of(second));
    EXPECT_EQ(*find_header(first.headers, "Cache-Control"), "no-store");
}

TEST(FranceconnectConnector, LoginRefusesNextOutsideReturnUrls) {
    const auto loaded = load();
    const auto connector = make_franceconnect_connector(source_of(*loaded, "unit-next"));
    for (const char* next : {"https://gru.example.evil.net/", "https://evil.example/",
                             "https://other.example/demarchesX", "https://gru.example/a b"}) {
        const HttpResponse r = call(*connector, login, {{"next", next}});
        EXPECT_EQ(r.status, 400u) << next;
        EXPECT_EQ(err_class_of(r), "invalid-parameter") << next;
        EXPECT_EQ(r.body.find("evil"), std::string::npos);
    }
    EXPECT_EQ(err_class_of(call(*connector, login, {})), "missing-parameter");
}

TEST(FranceconnectConnector, LoginsBeyondTheBoundAreRefused) {
    const auto loaded = load(R"("max_logins": 2)");
    const auto connector = make_franceconnect_connector(source_of(*loaded, "unit-bound"));
    const QueryParams next{{"next", "https://gru.example/"}};
    EXPECT_EQ(call(*connector, login, next).status, 302u);
    EXPECT_EQ(call(*connector, login, next).status, 302u);
    const HttpResponse refused = call(*connector, login, next);
    EXPECT_EQ(refused.status, 503u);
    EXPECT_EQ(err_class_of(refused), "overloaded");
}

TEST(FranceconnectConnector, CallbackWithoutAKnownStateIsRefused) {
    const auto loaded = load();
    const auto connector = make_franceconnect_connector(source_of(*loaded, "unit-callback"));
    for (const QueryParams& query :
         {QueryParams{}, QueryParams{{"state", "forged"}, {"code", "c"}},
          QueryParams{{"state", "forged"}, {"error", "access_denied"}}}) {
        const HttpResponse r = call(*connector, callback, query);
        EXPECT_EQ(r.status, 400u);
        EXPECT_EQ(err_class_of(r), "invalid-state");
    }
}

TEST(FranceconnectConnector, ProviderErrorSendsTheCitizenBack) {
    const auto loaded = load();
    const auto connector = make_franceconnect_connector(source_of(*loaded, "unit-error"));
    const HttpResponse started =
        call(*connector, login, {{"next", "https://gru.example/form#top"}});
    const std::string state = state_of(started);
    const HttpResponse back =
        call(*connector, callback, {{"state", state}, {"error", "access denied <script>"}}, "GET",
             cookie_after(started));
    EXPECT_EQ(back.status, 302u);
    EXPECT_EQ(*location_of(back), "https://gru.example/form?fc_error=error#top");
    EXPECT_EQ(err_class_of(call(*connector, callback, {{"state", state}, {"code", "c"}})),
              "invalid-state");
}

TEST(FranceconnectConnector, TheCallbackMustComeFromTheLoginsBrowser) {
    const auto loaded = load();
    const auto connector = make_franceconnect_connector(source_of(*loaded, "unit-browser"));
    const HttpResponse started = call(*connector, login, {{"next", "https://gru.example/"}});
    EXPECT_EQ(find_header(started.headers, "Set-Cookie")
                  ->substr(find_header(started.headers, "Set-Cookie")->find(';')),
              "; Max-Age=600; Path=/; HttpOnly; SameSite=Lax; Secure");
    const std::string state = state_of(started);
    const std::vector<Header> wrong{
        Header{"Cookie", "relais_fc_unit-browser=AAAAAAAAAAAAAAAAAAAAAA"}};
    for (const auto& cookie : {std::vector<Header>{}, wrong}) {
        const HttpResponse other = call(*connector, login, {{"next", "https://gru.example/"}});
        const HttpResponse refused =
            call(*connector, callback, {{"state", state_of(other)}, {"error", "access_denied"}},
                 "GET", cookie);
        EXPECT_EQ(err_class_of(refused), "invalid-state");
        EXPECT_EQ(*find_header(refused.headers, "Cache-Control"), "no-store");
        EXPECT_EQ(*find_header(refused.headers, "Set-Cookie"),
                  "relais_fc_unit-browser=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax; Secure");
        // The refusal spent the login.
        EXPECT_EQ(err_class_of(call(*connector, callback,
                                    {{"state", state_of(other)}, {"error", "access_denied"}}, "GET",
                                    cookie_after(other))),
                  "invalid-state");
    }
    EXPECT_EQ(call(*connector, callback, {{"state", state}, {"error", "access_denied"}}, "GET",
                   cookie_after(started))
                  .status,
              302u);
}

TEST(FranceconnectConnector, ABindingIsAShortToken) {
    const auto loaded = load();
    const auto connector = make_franceconnect_connector(source_of(*loaded, "unit-binding"));
    EXPECT_EQ(
        call(*connector, login, {{"next", "https://gru.example/"}, {"binding", "a-Z_0.9~"}}).status,
        302u);
    for (const std::string& binding :
         {std::string("a b"), std::string(129, 'a'), std::string("a/b")}) {
        const HttpResponse refused =
            call(*connector, login, {{"next", "https://gru.example/"}, {"binding", binding}});
        EXPECT_EQ(err_class_of(refused), "invalid-parameter");
        EXPECT_EQ(*find_header(refused.headers, "Cache-Control"), "no-store");
    }
}

TEST(FranceconnectConnector, IdentityNeedsAKnownCode) {
    const auto loaded = load();
    const auto connector = make_franceconnect_connector(source_of(*loaded, "unit-identity"));
    EXPECT_EQ(err_class_of(call(*connector, identity, {})), "missing-parameter");
    const HttpResponse unknown = call(*connector, identity, {{"code", "AAAAAAAAAAAAAAAAAAAAAA"}});
    EXPECT_EQ(unknown.status, 404u);
    EXPECT_EQ(err_class_of(unknown), "unknown-code");
    EXPECT_EQ(call(*connector, identity, {{"code", "x"}}, "POST").status, 405u);
}

TEST(FranceconnectConnector, LogoutGoesThroughTheProviderAndBack) {
    const auto loaded = load();
    const auto connector = make_franceconnect_connector(source_of(*loaded, "unit-logout"));
    const HttpResponse started =
        call(*connector, logout, {{"next", "https://gru.example/bye"}, {"id_token_hint", "a.b.c"}});
    ASSERT_EQ(started.status, 302u) << started.body;
    const std::string location = *location_of(started);
    const std::string prefix =
        "https://idp.example/api/v2/session/end?id_token_hint=a.b.c&post_logout_redirect_uri="
        "https%3A%2F%2Frelais.example%2Ffranceconnect%2Ffc%2Flogout&state=";
    ASSERT_EQ(location.substr(0, prefix.size()), prefix);
    const std::string state = location.substr(prefix.size());
    const HttpResponse back = call(*connector, logout, {{"state", state}});
    EXPECT_EQ(back.status, 302u);
    EXPECT_EQ(*location_of(back), "https://gru.example/bye");
    EXPECT_EQ(err_class_of(call(*connector, logout, {{"state", state}})), "invalid-state");
}

TEST(FranceconnectConnector, ALoginStateIsNoLogoutState) {
    const auto loaded = load();
    const auto connector = make_franceconnect_connector(source_of(*loaded, "unit-kinds"));
    const std::string location =
        *location_of(call(*connector, login, {{"next", "https://gru.example/"}}));
    const std::size_t at = location.find("&state=") + 7;
    const std::string state = location.substr(at, location.find('&', at) - at);
    EXPECT_EQ(err_class_of(call(*connector, logout, {{"state", state}})), "invalid-state");
}

}  // namespace
}  // namespace relais::franceconnect
