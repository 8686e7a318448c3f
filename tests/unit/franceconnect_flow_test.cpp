// The pure parts of the franceconnect kind: the one-time stores, random
// tokens, the redirect URLs, the discovery document, and what is kept of
// the provider's answers (tokens, subject, the pivot identity).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "franceconnect/flow_stores.hpp"
#include "franceconnect/identity.hpp"
#include "franceconnect/one_time_store.hpp"
#include "franceconnect/provider_client.hpp"
#include "franceconnect/redirects.hpp"

namespace relais::franceconnect {
namespace {

using namespace std::chrono_literals;
using Store = OneTimeStore<std::string>;

TEST(FranceconnectStore, AValueIsTakenOnce) {
    Store store(10, 60s);
    const auto now = Store::Clock::now();
    ASSERT_TRUE(store.put("k", "v", now));
    EXPECT_EQ(store.take("k", now + 59s), "v");
    EXPECT_EQ(store.take("k", now + 59s), std::nullopt);
    EXPECT_EQ(store.take("other", now), std::nullopt);
}

TEST(FranceconnectStore, ValuesExpire) {
    Store store(10, 60s);
    const auto now = Store::Clock::now();
    ASSERT_TRUE(store.put("a", "1", now));
    ASSERT_TRUE(store.put("b", "2", now + 30s));
    EXPECT_EQ(store.size(now + 60s), 1u);
    EXPECT_EQ(store.take("a", now + 60s), std::nullopt);
    EXPECT_EQ(store.take("b", now + 60s), "2");
}

TEST(FranceconnectStore, AFullStoreRefusesUntilValuesGo) {
    Store store(2, 60s);
    const auto now = Store::Clock::now();
    ASSERT_TRUE(store.put("a", "1", now));
    ASSERT_TRUE(store.put("b", "2", now));
    EXPECT_FALSE(store.put("c", "3", now));
    EXPECT_FALSE(store.put("a", "again", now));
    EXPECT_EQ(store.take("a", now), "1");
    EXPECT_TRUE(store.put("c", "3", now));
    EXPECT_TRUE(store.put("d", "4", now + 60s));
    EXPECT_EQ(store.size(now + 60s), 1u);
}

TEST(FranceconnectStore, TakeChecksTheEntrysOwnExpiry) {
    Store store(10, 60s);
    const auto now = Store::Clock::now();
    // Put out of time order: the sweep stops at the first live entry.
    ASSERT_TRUE(store.put("late", "1", now + 30s));
    ASSERT_TRUE(store.put("early", "2", now));
    EXPECT_EQ(store.take("early", now + 61s), std::nullopt);
    EXPECT_EQ(store.take("late", now + 61s), "1");
}

TEST(FranceconnectStore, RandomTokensAre128BitBase64url) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const std::string token = random_token();
        ASSERT_EQ(token.size(), 22u);
        EXPECT_EQ(token.find_first_not_of(
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                  std::string::npos);
        seen.insert(token);
    }
    EXPECT_EQ(seen.size(), 1000u);
}

TEST(FranceconnectStore, AReloadWithTheSameBoundsKeepsTheStores) {
    ConnectorSpec spec;
    const auto first = adopt_flow_stores("unit-adopt", spec);
    EXPECT_EQ(adopt_flow_stores("unit-adopt", spec), first);
    spec.handover_ttl = 30s;
    EXPECT_NE(adopt_flow_stores("unit-adopt", spec), first);
}

TEST(FranceconnectStore, AReloadUnderOtherRulesDropsTheFlows) {
    ConnectorSpec spec;
    spec.client_id = "c1";
    spec.provider.discovery = "https://idp.example";
    spec.return_urls = {"https://gru.example/"};
    auto kept = adopt_flow_stores("unit-rules", spec);
    for (int change = 0; change < 3; ++change) {
        ConnectorSpec other = spec;
        if (change == 0) {
            other.client_id = "c2";
        } else if (change == 1) {
            other.provider.discovery = "https://other-idp.example";
        } else {
            other.return_urls = {"https://gru.example/", "https://evil.example/"};
        }
        EXPECT_NE(adopt_flow_stores("unit-rules", other), kept) << change;
        kept = adopt_flow_stores("unit-rules", spec);
        EXPECT_EQ(adopt_flow_stores("unit-rules", spec), kept) << change;
    }
}

TEST(FranceconnectRedirects, NextMustStartWithAReturnUrl) {
    const std::vector<std::string> prefixes{"https://gru.example/", "https://b.example/x/"};
    EXPECT_TRUE(next_allowed("https://gru.example/", prefixes));
    EXPECT_TRUE(next_allowed("https://b.example/x/form?a=1", prefixes));
    EXPECT_FALSE(next_allowed("https://b.example/xy", prefixes));
    EXPECT_FALSE(next_allowed("https://gru.example.evil/", prefixes));
    EXPECT_FALSE(next_allowed("https://gru.example/\\evil", prefixes));
    EXPECT_FALSE(next_allowed("https://gru.example/a\r\nb", prefixes));
    EXPECT_FALSE(next_allowed("", prefixes));
}

TEST(FranceconnectRedirects, NextTricksAreRefused) {
    const std::vector<std::string> prefixes{"https://gru.example/demarches/",
                                            "https://b.example:8443/x"};
    EXPECT_TRUE(next_allowed("https://gru.example/demarches/carte/?step=2#top", prefixes));
    EXPECT_TRUE(next_allowed("HTTPS://GRU.example:443/demarches/a", prefixes));
    EXPECT_TRUE(next_allowed("https://b.example:8443/x", prefixes));
    EXPECT_TRUE(next_allowed("https://b.example:8443/x/y?u=a@b", prefixes));
    const char* tricks[] = {
        "https://gru.example/demarches/../admin/",          // dot segments
        "https://gru.example/demarches/./x",                //
        "https://gru.example/demarches/%2e%2e/admin/",      // encoded
        "https://gru.example/demarches/.%2E/admin/",        //
        "https://gru.example/demarches/%2E",                //
        "https://gru.example/demarches/..;/admin/",         // path parameters
        "https://gru.example/demarches/..;jsessionid=x/a",  //
        "https://gru.example/demarches/.%3b/admin/",        //
        "https://gru.example/demarches/a%2F..%2F..%2Fx",    // encoded slash
        "https://gru.example/demarches/a%5C..",             // encoded backslash
        "https://gru.example/demarches/a\\b",               // backslash
        "https://gru.example@evil.example/demarches/",      // userinfo
        "https://evil@gru.example/demarches/",              //
        "https://gru.example//evil.example/demarches/",     // path start
        "https://gru.example/demarches/\x01",               // control
        "https://gru.example/demarches/caf\xc3\xa9",        // non-ASCII
        "https://gru.example/demarches/a b",                // space
        "https://gru.example:444/demarches/",               // port
        "http://gru.example/demarches/",                    // scheme
        "https://gru.example.evil/demarches/",              // host
        "https://b.example:8443/xy",                        // segment, not text
        "https://b.example/x",                              // port
        "javascript://gru.example/demarches/",              //
        "//gru.example/demarches/",                         //
        "https://gru.example/demarches/%zz",                // bad escape
    };
    for (const char* trick : tricks) {
        EXPECT_FALSE(next_allowed(trick, prefixes)) << trick;
    }
    const std::string base = "https://gru.example/demarches/";
    EXPECT_TRUE(next_allowed(base + std::string(max_next_size - base.size(), 'a'), prefixes));
    EXPECT_FALSE(next_allowed(base + std::string(max_next_size - base.size() + 1, 'a'), prefixes));
}

TEST(FranceconnectRedirects, ParametersGoBeforeTheFragment) {
    EXPECT_EQ(with_parameter("https://g/p", "fc_code", "a b"), "https://g/p?fc_code=a+b");
    EXPECT_EQ(with_parameter("https://g/p?x=1", "fc_code", "c"), "https://g/p?x=1&fc_code=c");
    EXPECT_EQ(with_parameter("https://g/p?x=1#f", "fc_code", "c"), "https://g/p?x=1&fc_code=c#f");
}

TEST(FranceconnectRedirects, ProviderErrorsAreCodesOrNothing) {
    EXPECT_EQ(provider_error_code("access_denied"), "access_denied");
    EXPECT_EQ(provider_error_code("<script>"), "error");
    EXPECT_EQ(provider_error_code(""), "error");
    EXPECT_EQ(provider_error_code(std::string(65, 'a')), "error");
}

TEST(FranceconnectRedirects, ARedirectIsNeverCached) {
    const HttpResponse r = redirect_to("https://g/");
    EXPECT_EQ(r.status, 302u);
    EXPECT_EQ(*find_header(r.headers, "Location"), "https://g/");
    EXPECT_EQ(*find_header(r.headers, "Cache-Control"), "no-store");
}

TEST(FranceconnectDiscovery, TheDocumentGivesTheEndpoints) {
    const auto read = read_discovery(
        R"({"issuer": "https://idp.example/api/v2", "authorization_endpoint": "https://idp.example/a",
            "token_endpoint": "https://idp.example/t", "userinfo_endpoint": "https://idp.example/u",
            "jwks_uri": "https://idp.example/k", "end_session_endpoint": "https://idp.example/e"})",
        "https://idp.example/api/v2/");
    ASSERT_TRUE(std::holds_alternative<ProviderMetadata>(read)) << std::get<std::string>(read);
    const auto& m = std::get<ProviderMetadata>(read);
    EXPECT_EQ(m.issuer, "https://idp.example/api/v2");
    EXPECT_EQ(m.token_endpoint, "https://idp.example/t");
    EXPECT_EQ(m.end_session_endpoint, "https://idp.example/e");
}

TEST(FranceconnectDiscovery, UnusableDocumentsAreRefused) {
    const std::string endpoints =
        R"("authorization_endpoint": "https://i/a", "token_endpoint": "https://i/t",)"
        R"( "userinfo_endpoint": "https://i/u")";
    const auto why = [](const std::string& json) {
        const auto read = read_discovery(json, "https://i");
        return std::holds_alternative<std::string>(read) ? std::get<std::string>(read) : "read";
    };
    EXPECT_EQ(why("[]"), "the discovery document is not a JSON object");
    EXPECT_EQ(why(R"({"issuer": "https://i", )" + endpoints + "}"),
              "the discovery document has no jwks_uri");
    EXPECT_EQ(why(R"({"issuer": "https://other", "jwks_uri": "https://i/k", )" + endpoints + "}"),
              "the discovery document names another issuer than the configured one");
    EXPECT_EQ(why(R"({"issuer": "https://i", "jwks_uri": "file:///etc/k", )" + endpoints + "}"),
              "the discovery document's jwks_uri is not an http(s) URL");
    EXPECT_EQ(why(R"({"issuer": "https://i", "jwks_uri": "https://i/k", )" + endpoints + "}"),
              "read");
}

TEST(FranceconnectIdentity, TokenAnswersNeedBothTokens) {
    const auto tokens = read_token_answer(R"({"access_token": "at", "id_token": "a.b.c",
                                              "token_type": "Bearer"})");
    ASSERT_TRUE(tokens);
    EXPECT_EQ(tokens->access_token, "at");
    EXPECT_EQ(tokens->id_token, "a.b.c");
    EXPECT_FALSE(read_token_answer(R"({"access_token": "at"})"));
    EXPECT_FALSE(read_token_answer("not json"));
    EXPECT_EQ(token_refusal_code(R"({"error": "invalid_grant"})"), "invalid_grant");
    EXPECT_EQ(token_refusal_code(R"({"error": "bad grant!"})"), "error");
    EXPECT_EQ(token_refusal_code("<html>"), "no error code");
}

TEST(FranceconnectIdentity, OnlyThePivotIdentityIsHandedOver) {
    const auto data = handover_data(
        R"({"sub": "s1", "given_name": "Angela", "family_name": "Dupont", "birthdate": "1962-08-24",
            "gender": "female", "birthplace": "75107", "birthcountry": "99100",
            "email": "a@example.org", "preferred_username": "Merkel", "phone_number": "0600000000",
            "address": {"country": "France"}, "idp_id": "x"})",
        "s1", "h.p.s");
    ASSERT_TRUE(std::holds_alternative<std::string>(data));
    EXPECT_EQ(
        std::get<std::string>(data),
        R"({"sub":"s1","given_name":"Angela","family_name":"Dupont","birthdate":"1962-08-24",)"
        R"("gender":"female","birthplace":"75107","birthcountry":"99100",)"
        R"("email":"a@example.org","preferred_username":"Merkel","id_token":"h.p.s"})");
}

TEST(FranceconnectIdentity, AcrMustMeetTheRequestedLevel) {
    EXPECT_TRUE(acr_satisfies(R"({"sub": "s"})", ""));
    EXPECT_TRUE(acr_satisfies(R"({"acr": "eidas1"})", "eidas1"));
    EXPECT_TRUE(acr_satisfies(R"({"acr": "eidas2"})", "eidas1"));
    EXPECT_TRUE(acr_satisfies(R"({"acr": "eidas3"})", "eidas2 eidas3"));
    EXPECT_TRUE(acr_satisfies(R"({"acr": "custom"})", "eidas2 custom"));
    EXPECT_FALSE(acr_satisfies(R"({"acr": "eidas1"})", "eidas2"));
    EXPECT_FALSE(acr_satisfies(R"({"acr": "eidas1"})", "eidas2 eidas3"));
    EXPECT_FALSE(acr_satisfies(R"({"acr": "other"})", "eidas1"));
    EXPECT_FALSE(acr_satisfies(R"({"acr": "eidas10"})", "eidas1"));
    EXPECT_FALSE(acr_satisfies(R"({"acr": 3})", "eidas1"));
    EXPECT_FALSE(acr_satisfies(R"({"sub": "s"})", "eidas1"));
    EXPECT_FALSE(acr_satisfies("not json", "eidas1"));
}

TEST(FranceconnectIdentity, SignedUserinfoMustBeForThisClient) {
    const auto check = [](const char* json) {
        return check_signed_userinfo(json, "https://idp.example", "client");
    };
    EXPECT_EQ(check(R"({"sub": "s"})"), std::nullopt);
    EXPECT_EQ(check(R"({"iss": "https://idp.example", "aud": "client"})"), std::nullopt);
    EXPECT_EQ(check(R"({"aud": ["other", "client"]})"), std::nullopt);
    EXPECT_EQ(check(R"({"iss": "https://evil.example"})"), UserinfoProblem::wrong_issuer);
    EXPECT_EQ(check(R"({"iss": 1})"), UserinfoProblem::wrong_issuer);
    EXPECT_EQ(check(R"({"aud": "other"})"), UserinfoProblem::wrong_audience);
    EXPECT_EQ(check(R"({"aud": ["other"]})"), UserinfoProblem::wrong_audience);
    EXPECT_EQ(check("[]"), UserinfoProblem::malformed);
}

TEST(FranceconnectIdentity, UserinfoMustBeAboutTheSameSubject) {
    EXPECT_EQ(std::get<UserinfoProblem>(handover_data(R"({"sub": "s2"})", "s1", "t")),
              UserinfoProblem::wrong_subject);
    EXPECT_EQ(std::get<UserinfoProblem>(handover_data(R"({"given_name": "A"})", "s1", "t")),
              UserinfoProblem::wrong_subject);
    EXPECT_EQ(std::get<UserinfoProblem>(handover_data("[1]", "s1", "t")),
              UserinfoProblem::malformed);
    EXPECT_EQ(subject_of(R"({"sub": "s1"})"), "s1");
    EXPECT_EQ(subject_of(R"({"sub": 1})"), std::nullopt);
}

}  // namespace
}  // namespace relais::franceconnect
