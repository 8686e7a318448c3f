#include "config/upstream_fields.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <filesystem>
#include <fstream>

#include "config/config_document.hpp"
#include "core/duration.hpp"
#include "core/strings.hpp"
#include "core/url_encoding.hpp"

namespace relais::config {

namespace {

using rapidjson::Value;

std::string with_hint(std::string message, std::string_view hint) {
    if (!hint.empty()) {
        message.append(": ").append(hint);
    }
    return message;
}

// Headers relais sets itself, or that would let the file reshape the
// upstream request's framing.
bool is_reserved_header(std::string_view name) {
    static constexpr std::array<std::string_view, 6> reserved = {
        "host", "content-length", "transfer-encoding", "connection", "x-request-id", "te"};
    return std::ranges::any_of(reserved,
                               [&](std::string_view r) { return iequals_ascii(name, r); });
}

upstream::SharedPem pem_file(const ConnectorSource& source, const Value* v, const std::string& at) {
    auto pem = upstream::read_pem_file(readable_file(source, v, at));
    if (!pem) {
        throw source.error_at(at, "cannot read the file");
    }
    return pem;
}

}  // namespace

const Value* find_member(const Value& object, const char* name) {
    if (!object.IsObject()) {
        return nullptr;
    }
    const auto it = object.FindMember(name);
    return it == object.MemberEnd() ? nullptr : &it->value;
}

std::string text_of(const Value* v, std::string fallback) {
    return v != nullptr && v->IsString() ? std::string(v->GetString(), v->GetStringLength())
                                         : fallback;
}

std::string scalar_text(const Value& v) {
    if (v.IsString()) {
        return {v.GetString(), v.GetStringLength()};
    }
    if (v.IsBool()) {
        return v.GetBool() ? "true" : "false";
    }
    if (v.IsNumber()) {
        char buf[32];
        const auto r = v.IsInt64() ? std::to_chars(buf, buf + sizeof buf, v.GetInt64())
                                   : std::to_chars(buf, buf + sizeof buf, v.GetDouble());
        return {buf, r.ptr};
    }
    return {};
}

std::chrono::milliseconds positive_duration(const ConnectorSource& source, const Value* v,
                                            std::chrono::milliseconds fallback,
                                            const std::string& at) {
    if (v == nullptr) {
        return fallback;
    }
    const auto parsed = parse_duration(text_of(v));
    if (!parsed || parsed->count() == 0) {
        throw source.error_at(at,
                              "expected a duration such as 500ms, 10s or 5m, greater than zero");
    }
    return *parsed;
}

void check_http_url(const ConnectorSource& source, const std::string& url, const std::string& at,
                    bool base, const UrlHints& hints) {
    const bool http = url.size() > 7 && iequals_ascii(url.substr(0, 7), "http://");
    const bool https = url.size() > 8 && iequals_ascii(url.substr(0, 8), "https://");
    if (!http && !https) {
        throw source.error_at(at, "expected an absolute http:// or https:// URL");
    }
    if (std::ranges::any_of(url, [](char c) { return c == ' ' || is_control_char(c); })) {
        throw source.error_at(at, "the URL must not contain spaces or control characters");
    }
    if (url.find('#') != std::string::npos || (base && url.find('?') != std::string::npos)) {
        throw source.error_at(
            at, base ? with_hint("base_url must not have a query or a fragment", hints.query)
                     : "the URL must not have a fragment");
    }
    const std::size_t host_start = http ? 7 : 8;
    const std::size_t host_end = url.find_first_of("/?", host_start);
    const std::string authority = url.substr(
        host_start, host_end == std::string::npos ? std::string::npos : host_end - host_start);
    if (authority.empty()) {
        throw source.error_at(at, "the URL has no host");
    }
    if (authority.find('@') != std::string::npos) {
        throw source.error_at(at,
                              with_hint("the URL must not carry credentials", hints.credentials));
    }
    // The port follows the last ':' outside an IPv6 address's brackets.
    const std::size_t colon = authority.rfind(':');
    const std::size_t bracket = authority.rfind(']');
    if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
        const std::string_view port = std::string_view(authority).substr(colon + 1);
        if (!port.empty() && !parse_port(port)) {
            throw source.error_at(at, "the URL's port must be a number from 1 to 65535");
        }
    }
}

std::string readable_file(const ConnectorSource& source, const Value* v, const std::string& at) {
    std::filesystem::path path(text_of(v));
    if (path.is_relative()) {
        path = std::filesystem::path(source.locations.file()).parent_path() / path;
    }
    if (!std::ifstream(path).good()) {
        throw source.error_at(at, "cannot read file '" + path.string() + "'");
    }
    // libcurl opens it later, from whatever the working directory is then.
    return std::filesystem::absolute(path).string();
}

upstream::TlsOptions load_tls(const ConnectorSource& source, const Value& tls,
                              const std::string& at) {
    upstream::TlsOptions out;
    if (const Value* verify = find_member(tls, "verify"); verify != nullptr && verify->IsBool()) {
        out.verify = verify->GetBool();
    }
    if (const Value* ca = find_member(tls, "ca_file")) {
        out.ca_file = readable_file(source, ca, at + "/ca_file");
    }
    const Value* cert = find_member(tls, "client_cert");
    const Value* key = find_member(tls, "client_key");
    if ((cert == nullptr) != (key == nullptr)) {
        throw source.error_at(at, "client_cert and client_key go together");
    }
    if (cert != nullptr) {
        out.client_cert = pem_file(source, cert, at + "/client_cert");
        out.client_key = pem_file(source, key, at + "/client_key");
    }
    return out;
}

void check_header_name(const ConnectorSource& source, std::string_view name, const std::string& at,
                       bool has_auth) {
    if (!is_header_name(name)) {
        throw source.error_at(at, "'" + std::string(name) + "' is not a valid header name");
    }
    if (is_reserved_header(name)) {
        throw source.error_at(at, "header '" + std::string(name) + "' is set by relais");
    }
    if (has_auth && iequals_ascii(name, "authorization")) {
        throw source.error_at(
            at, "the Authorization header comes from upstream.auth; remove one of them");
    }
}

std::vector<Header> load_upstream_headers(const ConnectorSource& source, const Value* headers,
                                          const std::string& at, bool has_auth,
                                          std::string_view accept) {
    std::vector<Header> out;
    bool has_accept = false;
    if (headers != nullptr && headers->IsObject()) {
        for (const auto& h : headers->GetObject()) {
            const std::string name(h.name.GetString(), h.name.GetStringLength());
            std::string hat = at;
            append_pointer_token(hat, name);
            check_header_name(source, name, hat, has_auth);
            std::string value = scalar_text(h.value);
            if (has_control_chars(value)) {
                throw source.error_at(hat, "header values must not contain control characters");
            }
            has_accept = has_accept || iequals_ascii(name, "accept");
            out.push_back(Header{name, std::move(value)});
        }
    }
    if (!has_accept) {
        out.push_back(Header{"Accept", std::string(accept)});
    }
    return out;
}

}  // namespace relais::config
