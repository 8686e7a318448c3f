#include "franceconnect/redirects.hpp"

#include <algorithm>
#include <optional>
#include <string>

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

/// The parts of an absolute http(s) URL that say where it leads.
struct UrlParts {
    std::string scheme;  ///< lower case
    std::string host;    ///< lower case
    std::string port;    ///< the scheme's default when absent
    std::string_view path;
};

char lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

std::string lowered(std::string_view text) {
    std::string out(text);
    std::ranges::transform(out, out.begin(), lower);
    return out;
}

/// Whether one path segment is harmless once a server decodes it: not `.`
/// nor `..`, also before parameters (a Java server reads `..;x` as `..`),
/// and no slash or backslash hidden in an escape.
bool plain_segment(std::string_view segment) {
    const auto decoded = url_decode(segment, false);
    if (!decoded) {
        return false;
    }
    const std::string_view name = std::string_view(*decoded).substr(0, decoded->find(';'));
    return name != "." && name != ".." && decoded->find_first_of("/\\") == std::string::npos;
}

/// `url` split, or nullopt when it is not a URL relais sends a citizen to.
std::optional<UrlParts> split_url(std::string_view url) {
    const bool clean = std::ranges::all_of(url, [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte > 0x20 && byte < 0x7f && c != '\\';
    });
    const std::size_t after_scheme = url.find("://");
    if (!clean || after_scheme == std::string_view::npos) {
        return std::nullopt;
    }
    UrlParts parts;
    parts.scheme = lowered(url.substr(0, after_scheme));
    if (parts.scheme != "https" && parts.scheme != "http") {
        return std::nullopt;
    }
    const std::string_view rest = url.substr(after_scheme + 3);
    const std::string_view before_query = rest.substr(0, rest.find_first_of("?#"));
    const std::size_t slash = before_query.find('/');
    const std::string_view authority = before_query.substr(0, slash);
    parts.path =
        slash == std::string_view::npos ? std::string_view("/") : before_query.substr(slash);
    if (before_query.find('@') != std::string_view::npos || parts.path.starts_with("//")) {
        return std::nullopt;
    }
    const std::size_t bracket = authority.rfind(']');
    const std::size_t colon = authority.find(':', bracket == std::string_view::npos ? 0 : bracket);
    parts.host = lowered(authority.substr(0, colon));
    parts.port = colon == std::string_view::npos
                     ? std::string(parts.scheme == "https" ? "443" : "80")
                     : std::string(authority.substr(colon + 1));
    if (parts.host.empty() || parts.port.empty() ||
        !std::ranges::all_of(parts.port, [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    std::string_view segments = parts.path.substr(1);
    while (true) {
        const std::size_t end = segments.find('/');
        if (!plain_segment(segments.substr(0, end))) {
            return std::nullopt;
        }
        if (end == std::string_view::npos) {
            break;
        }
        segments.remove_prefix(end + 1);
    }
    return parts;
}

/// Whether `path` is `prefix` or lies under it, segment by segment: the
/// segments were checked, so a textual prefix ending at a '/' is enough.
bool path_under(std::string_view path, std::string_view prefix) noexcept {
    if (path == prefix) {
        return true;
    }
    if (!path.starts_with(prefix)) {
        return false;
    }
    return prefix.ends_with('/') || path[prefix.size()] == '/';
}

}  // namespace

bool next_allowed(std::string_view next, const std::vector<std::string>& prefixes) {
    const auto url = split_url(next);
    if (next.size() > max_next_size || !url) {
        return false;
    }
    return std::ranges::any_of(prefixes, [&url](const std::string& prefix) {
        const auto allowed = split_url(prefix);
        return allowed && allowed->scheme == url->scheme && allowed->host == url->host &&
               allowed->port == url->port && path_under(url->path, allowed->path);
    });
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
