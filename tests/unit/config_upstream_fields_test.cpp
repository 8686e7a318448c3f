// The upstream settings that connector kinds read alike (config/upstream_fields.hpp).
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "config/upstream_fields.hpp"

using namespace relais;
using namespace std::chrono_literals;

namespace {

/// A connector file `c.yaml` in a fresh directory, whose document is `json`.
class UpstreamFields : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("relais-upstream-fields-" + std::to_string(getpid()));
        std::filesystem::create_directories(dir_);
        map_ = SourceMap((dir_ / "c.yaml").string());
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    const ConnectorSource& source(const std::string& json) {
        doc_.Parse(json.c_str());
        EXPECT_FALSE(doc_.HasParseError()) << json;
        source_.emplace(ConnectorSource{doc_, map_, "s", "k", "f", {}});
        return *source_;
    }

    void write(const std::string& name, const std::string& text) const {
        std::ofstream(dir_ / name) << text;
    }

    std::filesystem::path dir_;
    SourceMap map_;
    rapidjson::Document doc_;
    std::optional<ConnectorSource> source_;
};

/// The message of the ConfigError `f` throws, or "" if it throws none.
template <typename F>
std::string refusal(F f) {
    try {
        f();
    } catch (const ConfigError& e) {
        const std::string what = e.what();
        return what.substr(what.find(": ") + 2);
    }
    return {};
}

}  // namespace

TEST_F(UpstreamFields, MembersAndScalars) {
    const auto& s = source(R"({"a": "x", "n": 10, "b": true, "o": {}})");
    EXPECT_EQ(config::find_member(s.document, "missing"), nullptr);
    EXPECT_EQ(config::find_member(*config::find_member(s.document, "a"), "a"), nullptr);
    EXPECT_EQ(config::text_of(config::find_member(s.document, "a")), "x");
    EXPECT_EQ(config::text_of(config::find_member(s.document, "n"), "d"), "d");
    EXPECT_EQ(config::scalar_text(*config::find_member(s.document, "n")), "10");
    EXPECT_EQ(config::scalar_text(*config::find_member(s.document, "b")), "true");
    EXPECT_EQ(config::scalar_text(*config::find_member(s.document, "o")), "");
}

TEST_F(UpstreamFields, DurationsArePositive) {
    const auto& s = source(R"({"t": "2s", "zero": "0ms", "bad": "2 s"})");
    EXPECT_EQ(config::positive_duration(s, nullptr, 5s, "/t"), 5s);
    EXPECT_EQ(config::positive_duration(s, config::find_member(s.document, "t"), 5s, "/t"), 2s);
    for (const char* key : {"zero", "bad"}) {
        EXPECT_EQ(refusal([&] {
                      config::positive_duration(s, config::find_member(s.document, key), 5s, "/t");
                  }),
                  "expected a duration such as 500ms, 10s or 5m, greater than zero");
    }
}

TEST_F(UpstreamFields, HttpUrls) {
    const auto& s = source("{}");
    const config::UrlHints hints{"query hint", "credentials hint"};
    const auto check = [&](const std::string& url, bool base, const config::UrlHints& h) {
        return refusal([&] { config::check_http_url(s, url, "/u", base, h); });
    };
    EXPECT_EQ(check("https://host/a?b=c", false, {}), "");
    EXPECT_EQ(check("HTTP://host:8080", true, {}), "");
    EXPECT_EQ(check("ftp://host/", true, {}), "expected an absolute http:// or https:// URL");
    EXPECT_EQ(check("http://host/a b", true, {}),
              "the URL must not contain spaces or control characters");
    EXPECT_EQ(check("http://host/\ta", true, {}),
              "the URL must not contain spaces or control characters");
    EXPECT_EQ(check("http://host/#f", false, {}), "the URL must not have a fragment");
    EXPECT_EQ(check("http://host/?q", true, {}), "base_url must not have a query or a fragment");
    EXPECT_EQ(check("http://host/?q", true, hints),
              "base_url must not have a query or a fragment: query hint");
    EXPECT_EQ(check("http:///path", true, {}), "the URL has no host");
    EXPECT_EQ(check("http://u:p@host/", true, {}), "the URL must not carry credentials");
    EXPECT_EQ(check("http://u:p@host/", false, hints),
              "the URL must not carry credentials: credentials hint");
    EXPECT_EQ(check("http://host:65535/", true, {}), "");
    EXPECT_EQ(check("http://[::1]:8080", true, {}), "");
    EXPECT_EQ(check("http://[::1]/", true, {}), "");
    EXPECT_EQ(check("http://host:/", true, {}), "");
    for (const char* url : {"http://host:99999/", "http://host:0", "http://host:8o/",
                            "http://[::1]:65536/", "https://host:-1/a?b"}) {
        EXPECT_EQ(check(url, false, {}), "the URL's port must be a number from 1 to 65535") << url;
    }
}

TEST_F(UpstreamFields, FilesAreRelativeToTheConnectorFile) {
    write("ca.pem", "pem");
    const auto& s = source(R"({"ca": "ca.pem", "missing": "no.pem"})");
    EXPECT_EQ(config::readable_file(s, config::find_member(s.document, "ca"), "/ca"),
              std::filesystem::absolute(dir_ / "ca.pem").string());
    EXPECT_EQ(refusal([&] {
                  config::readable_file(s, config::find_member(s.document, "missing"), "/m");
              }),
              "cannot read file '" + (dir_ / "no.pem").string() + "'");
}

TEST_F(UpstreamFields, Tls) {
    write("cert.pem", "CERT");
    write("key.pem", "KEY");
    const auto& s = source(
        R"({"full": {"verify": false, "ca_file": "cert.pem", "client_cert": "cert.pem",
                     "client_key": "key.pem"},
            "half": {"client_key": "key.pem"}})");
    const upstream::TlsOptions tls =
        config::load_tls(s, *config::find_member(s.document, "full"), "/tls");
    EXPECT_FALSE(tls.verify);
    EXPECT_EQ(tls.ca_file, std::filesystem::absolute(dir_ / "cert.pem").string());
    ASSERT_TRUE(tls.client_cert && tls.client_key);
    EXPECT_EQ(*tls.client_cert, "CERT");
    EXPECT_EQ(*tls.client_key, "KEY");
    EXPECT_EQ(refusal([&] { config::load_tls(s, *config::find_member(s.document, "half"), "/t"); }),
              "client_cert and client_key go together");
}

TEST_F(UpstreamFields, Headers) {
    const auto& s = source(
        R"({"ok": {"X-Key": "k", "X-N": 3}, "accept": {"accept": "text/csv"},
            "host": {"Host": "h"}, "name": {"X Y": "v"}, "ctl": {"X-A": "a\nb"},
            "auth": {"Authorization": "x"}})");
    const auto headers = [&](const char* key, bool has_auth) {
        return config::load_upstream_headers(s, config::find_member(s.document, key), "/h",
                                             has_auth);
    };
    const auto defaults = config::load_upstream_headers(s, nullptr, "/h", false);
    ASSERT_EQ(defaults.size(), 1u);
    EXPECT_EQ(defaults[0].name, "Accept");
    EXPECT_EQ(defaults[0].value, "application/json");
    const auto ok = headers("ok", false);
    ASSERT_EQ(ok.size(), 3u);
    EXPECT_EQ(ok[1].value, "3");
    ASSERT_EQ(headers("accept", false).size(), 1u);
    EXPECT_EQ(headers("auth", false).size(), 2u);
    EXPECT_EQ(refusal([&] { headers("host", false); }), "header 'Host' is set by relais");
    EXPECT_EQ(refusal([&] { headers("name", false); }), "'X Y' is not a valid header name");
    EXPECT_EQ(refusal([&] { headers("ctl", false); }),
              "header values must not contain control characters");
    EXPECT_EQ(refusal([&] { headers("auth", true); }),
              "the Authorization header comes from upstream.auth; remove one of them");
}
