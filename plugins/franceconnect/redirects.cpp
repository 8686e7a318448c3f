#include "franceconnect/redirects.hpp"

#include <algorithm>

#include "core/strings.hpp"
#include "core/url_encoding.hpp"

namespace relais::franceconnect {

namespace {

void add_parameter(std::string& url, bool& first, std::string_view name, std::string_view value) {
    url += first && url.find('?') == std::string::npos ? '?' : '&';
    first = false;
    append_form_encoded(url, name);
    url += '=';
    append_form_encoded(url, value);
}

}  // namespace

bool next_allowed(std::string_view next, const std::vector<std::string>& prefixes) noexcept {
    if (std::ranges::any_of(next,
                            [](char c) { return c == ' ' || c == '\\' || is_control_char(c); })) {
        return false;
    }
    return std::ranges::any_of(
        prefixes, [next](const std::string& prefix) { return next.starts_with(prefix); });
}

std::string with_parameter(std::string_view url, std::string_view name, std::string_view value) {
    const std::size_t hash = url.find('#');
    const std::string_view base = url.substr(0, hash);
    std::string out(base);
    bool first = true;
    add_parameter(out, first, name, value);
    if (hash != std::string_view::npos) {
        out += url.substr(hash);
    }
    return out;
}

std::string authorization_url(const ProviderMetadata& provider, const ConnectorSpec& spec,
                              std::string_view state, std::string_view nonce) {
    std::string url = provider.authorization_endpoint;
    bool first = true;
    add_parameter(url, first, "response_type", "code");
    add_parameter(url, first, "client_id", spec.client_id);
    add_parameter(url, first, "redirect_uri", spec.redirect_uri);
    add_parameter(url, first, "scope", spec.scope);
    add_parameter(url, first, "state", state);
    add_parameter(url, first, "nonce", nonce);
    if (!spec.acr_values.empty()) {
        add_parameter(url, first, "acr_values", spec.acr_values);
    }
    if (!spec.prompt.empty()) {
        add_parameter(url, first, "prompt", spec.prompt);
    }
    return url;
}

std::string end_session_url(const ProviderMetadata& provider, const ConnectorSpec& spec,
                            std::string_view id_token_hint, std::string_view state) {
    std::string url = provider.end_session_endpoint;
    bool first = true;
    if (!id_token_hint.empty()) {
        add_parameter(url, first, "id_token_hint", id_token_hint);
    }
    add_parameter(url, first, "post_logout_redirect_uri", spec.post_logout_redirect_uri);
    add_parameter(url, first, "state", state);
    return url;
}

std::string_view provider_error_code(std::string_view error) noexcept {
    const bool code =
        !error.empty() && error.size() <= 64 && std::ranges::all_of(error, [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '.' || c == '-';
        });
    return code ? error : std::string_view("error");
}

HttpResponse redirect_to(std::string location) {
    HttpResponse response;
    response.status = 302;
    response.content_type = "text/plain";
    response.headers.push_back(Header{"Location", std::move(location)});
    response.headers.push_back(Header{"Cache-Control", "no-store"});
    return response;
}

}  // namespace relais::franceconnect
