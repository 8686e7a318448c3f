#include "franceconnect/connector_spec.hpp"

#include <rapidjson/document.h>

#include <algorithm>

#include "config/config_document.hpp"
#include "config/upstream_fields.hpp"
#include "core/duration.hpp"

namespace relais::franceconnect {

namespace {

using config::find_member;
using config::text_of;
using rapidjson::Value;
using std::chrono::milliseconds;

constexpr const char* explicit_endpoint_names[] = {"issuer",         "authorization_endpoint",
                                                   "token_endpoint", "userinfo_endpoint",
                                                   "jwks_uri",       "end_session_endpoint"};

milliseconds bounded_duration(const ConnectorSource& source, const Value* v, milliseconds fallback,
                              milliseconds least, milliseconds most, const std::string& at,
                              const std::string& range) {
    const milliseconds d = config::positive_duration(source, v, fallback, at);
    if (d < least || d > most) {
        throw source.error_at(at, "expected a duration " + range);
    }
    return d;
}

std::string url_member(const ConnectorSource& source, const Value& object, const char* name,
                       const std::string& at) {
    const Value* v = find_member(object, name);
    if (v == nullptr) {
        return {};
    }
    std::string url = text_of(v);
    config::check_http_url(source, url, at + "/" + name, false);
    return url;
}

ProviderSpec load_provider(const ConnectorSource& source, const Value& v, bool needs_jwks) {
    ProviderSpec p;
    p.discovery = url_member(source, v, "discovery", "/provider");
    ProviderMetadata& e = p.endpoints;
    e.issuer = url_member(source, v, "issuer", "/provider");
    e.authorization_endpoint = url_member(source, v, "authorization_endpoint", "/provider");
    e.token_endpoint = url_member(source, v, "token_endpoint", "/provider");
    e.userinfo_endpoint = url_member(source, v, "userinfo_endpoint", "/provider");
    e.jwks_uri = url_member(source, v, "jwks_uri", "/provider");
    e.end_session_endpoint = url_member(source, v, "end_session_endpoint", "/provider");
    if (!p.discovery.empty()) {
        for (const char* name : explicit_endpoint_names) {
            if (find_member(v, name) != nullptr) {
                throw source.error_at(std::string("/provider/") + name,
                                      "write either discovery or the provider's endpoints, not "
                                      "both: with discovery, they come from its document");
            }
        }
    } else {
        const std::pair<const char*, const std::string*> required[] = {
            {"issuer", &e.issuer},
            {"authorization_endpoint", &e.authorization_endpoint},
            {"token_endpoint", &e.token_endpoint},
            {"userinfo_endpoint", &e.userinfo_endpoint}};
        for (const auto& [name, value] : required) {
            if (value->empty()) {
                throw source.error_at("/provider", std::string("without discovery, write ") + name +
                                                       " (and the other endpoints)");
            }
        }
        if (needs_jwks && e.jwks_uri.empty()) {
            throw source.error_at("/provider",
                                  "write jwks_uri: RS256 and ES256 signatures are checked with "
                                  "the provider's keys");
        }
    }
    p.timeout = config::positive_duration(source, find_member(v, "timeout"), p.timeout,
                                          "/provider/timeout");
    p.connect_timeout = config::positive_duration(source, find_member(v, "connect_timeout"),
                                                  p.connect_timeout, "/provider/connect_timeout");
    if (const Value* m = find_member(v, "max_response_bytes"); m != nullptr && m->IsUint64()) {
        p.max_response_bytes = static_cast<std::size_t>(m->GetUint64());
    }
    if (const Value* tls = find_member(v, "tls")) {
        p.tls = config::load_tls(source, *tls, "/provider/tls");
    }
    p.cache_ttl =
        bounded_duration(source, find_member(v, "cache_ttl"), p.cache_ttl, milliseconds(1000),
                         std::chrono::hours(24), "/provider/cache_ttl", "from 1s to 24h");
    return p;
}

std::vector<Algorithm> load_algorithms(const ConnectorSource& source, const Value* v) {
    if (v == nullptr || !v->IsArray()) {
        return {Algorithm::rs256, Algorithm::es256};
    }
    std::vector<Algorithm> out;
    for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
        const Value& name = (*v)[i];
        const auto algorithm = algorithm_named(name.IsString() ? name.GetString() : "");
        if (!algorithm) {
            throw source.error_at("/algorithms/" + std::to_string(i),
                                  "expected RS256, ES256 or HS256");
        }
        const Algorithm chosen = algorithm.value();
        if (std::ranges::find(out, chosen) == out.end()) {
            out.push_back(chosen);
        }
    }
    if (out.empty()) {
        throw source.error_at("/algorithms", "allow at least one algorithm (RS256, ES256, HS256)");
    }
    return out;
}

std::vector<std::string> load_return_urls(const ConnectorSource& source, const Value* v) {
    std::vector<std::string> out;
    if (v == nullptr || !v->IsArray() || v->Empty()) {
        throw source.error_at("/return_urls",
                              "list the URL prefixes of the GRU where citizens may be sent back");
    }
    for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
        std::string url = text_of(&(*v)[i]);
        config::check_http_url(source, url, "/return_urls/" + std::to_string(i), true);
        // Without a path, "https://gru.example" would also match
        // "https://gru.example.evil.net/": the host must end where the
        // prefix says.
        const std::size_t host_start = url.find("://") + 3;
        if (url.find('/', host_start) == std::string::npos) {
            url += '/';
        }
        out.push_back(std::move(url));
    }
    return out;
}

std::string scalar_member(const Value& doc, const char* name, const char* fallback) {
    const Value* v = find_member(doc, name);
    return v == nullptr ? std::string(fallback) : text_of(v);
}

}  // namespace

ConnectorSpec load_connector_spec(const ConnectorSource& source) {
    const Value& doc = source.document;
    ConnectorSpec spec;
    spec.algorithms = load_algorithms(source, find_member(doc, "algorithms"));
    const bool needs_jwks =
        std::ranges::any_of(spec.algorithms, [](Algorithm a) { return a != Algorithm::hs256; });
    const Value* provider = find_member(doc, "provider");
    if (provider == nullptr) {
        throw source.error_at("", "write provider: with discovery or the provider's endpoints");
    }
    spec.provider = load_provider(source, *provider, needs_jwks);
    spec.client_id = text_of(find_member(doc, "client_id"));
    spec.client_secret = text_of(find_member(doc, "client_secret"));
    if (spec.client_id.empty()) {
        throw source.error_at("/client_id", "write the client_id the provider gave relais");
    }
    if (spec.client_secret.empty()) {
        throw source.error_at("/client_secret",
                              "write the client secret, as ${env:NAME} or ${file:PATH}");
    }
    if (text_of(find_member(doc, "client_auth"), "client_secret_post") == "client_secret_basic") {
        spec.client_auth = ClientAuth::secret_basic;
    }
    spec.redirect_uri = url_member(source, doc, "redirect_uri", "");
    if (spec.redirect_uri.empty()) {
        throw source.error_at("/redirect_uri",
                              "write relais's callback URL, as registered with the provider: "
                              "https://<relais>/franceconnect/<slug>/callback");
    }
    spec.post_logout_redirect_uri = url_member(source, doc, "post_logout_redirect_uri", "");
    spec.scope = scalar_member(doc, "scope", default_scope);
    if (spec.scope.find("openid") == std::string::npos) {
        throw source.error_at("/scope", "the scope must include openid");
    }
    spec.acr_values = scalar_member(doc, "acr_values", "eidas1");
    spec.prompt = scalar_member(doc, "prompt", "");
    spec.return_urls = load_return_urls(source, find_member(doc, "return_urls"));
    spec.login_ttl =
        bounded_duration(source, find_member(doc, "login_ttl"), spec.login_ttl, milliseconds(1000),
                         std::chrono::hours(1), "/login_ttl", "from 1s to 1h");
    spec.handover_ttl =
        bounded_duration(source, find_member(doc, "handover_ttl"), spec.handover_ttl,
                         milliseconds(1000), std::chrono::minutes(5), "/handover_ttl",
                         "from 1s to 5m: the identity is kept in memory meanwhile");
    if (const Value* n = find_member(doc, "max_logins"); n != nullptr && n->IsUint()) {
        spec.max_logins = n->GetUint();
    }
    if (const Value* n = find_member(doc, "max_handovers"); n != nullptr && n->IsUint()) {
        spec.max_handovers = n->GetUint();
    }
    return spec;
}

}  // namespace relais::franceconnect
