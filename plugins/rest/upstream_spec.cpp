#include "rest/upstream_spec.hpp"

#include <rapidjson/document.h>

#include "core/strings.hpp"

namespace relais::rest {

namespace {

using config::find_member;
using config::text_of;
using rapidjson::Value;

void check_secret(const ConnectorSource& source, const std::string& value, const std::string& at) {
    if (value.empty()) {
        throw source.error_at(at, "must not be empty");
    }
    if (has_control_chars(value)) {
        throw source.error_at(at, "must not contain control characters (a trailing newline?)");
    }
}

upstream::AuthConfig load_auth(const ConnectorSource& source, const Value& v, const std::string& at,
                               const config::UrlHints& hints) {
    if (const Value* b = find_member(v, "bearer")) {
        upstream::BearerAuth auth{text_of(find_member(*b, "token"))};
        check_secret(source, auth.token, at + "/bearer/token");
        return auth;
    }
    if (const Value* b = find_member(v, "basic")) {
        upstream::BasicAuth auth{text_of(find_member(*b, "username")),
                                 text_of(find_member(*b, "password"))};
        if (auth.username.find(':') != std::string::npos) {
            throw source.error_at(at + "/basic/username", "a Basic username cannot contain ':'");
        }
        check_secret(source, auth.username, at + "/basic/username");
        check_secret(source, auth.password, at + "/basic/password");
        return auth;
    }
    if (const Value* k = find_member(v, "api_key")) {
        upstream::ApiKeyHeaderAuth auth{text_of(find_member(*k, "header")),
                                        text_of(find_member(*k, "value"))};
        config::check_header_name(source, auth.header, at + "/api_key/header", false);
        check_secret(source, auth.value, at + "/api_key/value");
        return auth;
    }
    if (const Value* o = find_member(v, "oauth2")) {
        upstream::OAuth2ClientCredentials auth{
            text_of(find_member(*o, "token_url")), text_of(find_member(*o, "client_id")),
            text_of(find_member(*o, "client_secret")), text_of(find_member(*o, "scope"))};
        config::check_http_url(source, auth.token_url, at + "/oauth2/token_url", false, hints);
        check_secret(source, auth.client_id, at + "/oauth2/client_id");
        check_secret(source, auth.client_secret, at + "/oauth2/client_secret");
        return auth;
    }
    throw source.error_at(at, "expected one of: bearer, basic, api_key, oauth2");
}

}  // namespace

UpstreamSpec load_upstream_spec(const ConnectorSource& source, const Value& v,
                                const std::string& at, const config::UrlHints& hints,
                                std::string_view accept) {
    UpstreamSpec u;
    u.base_url = text_of(find_member(v, "base_url"));
    config::check_http_url(source, u.base_url, at + "/base_url", true, hints);
    u.timeout =
        config::positive_duration(source, find_member(v, "timeout"), u.timeout, at + "/timeout");
    u.connect_timeout = config::positive_duration(source, find_member(v, "connect_timeout"),
                                                  u.connect_timeout, at + "/connect_timeout");
    if (const Value* m = find_member(v, "max_response_bytes"); m != nullptr && m->IsUint64()) {
        u.max_response_bytes = static_cast<std::size_t>(m->GetUint64());
    }
    const Value* auth = find_member(v, "auth");
    if (auth != nullptr) {
        u.auth = load_auth(source, *auth, at + "/auth", hints);
    }
    if (const Value* tls = find_member(v, "tls")) {
        u.tls = config::load_tls(source, *tls, at + "/tls");
    }
    u.headers = config::load_upstream_headers(source, find_member(v, "headers"), at + "/headers",
                                              auth != nullptr, accept);
    return u;
}

}  // namespace relais::rest
