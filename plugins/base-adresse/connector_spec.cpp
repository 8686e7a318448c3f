#include "base-adresse/connector_spec.hpp"

#include <rapidjson/document.h>

#include "base-adresse/address_id.hpp"
#include "config/config_document.hpp"
#include "config/upstream_fields.hpp"
#include "core/duration.hpp"

namespace relais::base_adresse {

namespace {

// Bounds that keep time arithmetic far from overflow and requests from
// piling up behind the rate limit.
constexpr double min_rate = 0.01;
constexpr double max_rate = 10'000;
constexpr std::chrono::milliseconds max_rate_wait{10'000};
constexpr std::chrono::milliseconds max_cache_age{std::chrono::hours(24 * 365)};

using config::find_member;
using config::text_of;
using rapidjson::Value;

void load_rate_limit(const ConnectorSource& source, const Value& v, const std::string& at,
                     RateLimitSpec& out) {
    if (const Value* rate = find_member(v, "per_second"); rate != nullptr && rate->IsNumber()) {
        out.per_second = rate->GetDouble();
        if (!(out.per_second >= min_rate && out.per_second <= max_rate)) {
            throw source.error_at(at + "/per_second",
                                  "the rate must be from 0.01 to 10000 calls per second");
        }
    }
    if (const Value* burst = find_member(v, "burst"); burst != nullptr && burst->IsUint()) {
        out.burst = burst->GetUint();
    }
    if (const Value* wait = find_member(v, "max_wait")) {
        const auto parsed = parse_duration(text_of(wait));
        if (!parsed || *parsed > max_rate_wait) {
            throw source.error_at(at + "/max_wait",
                                  "expected a duration from 0ms to 10s, such as 250ms: a longer "
                                  "wait would pile requests up behind the limit");
        }
        out.max_wait = *parsed;
    }
}

UpstreamSpec load_upstream(const ConnectorSource& source, const Value* v, const std::string& at,
                           const char* default_url) {
    UpstreamSpec u;
    u.base_url = default_url;
    if (v != nullptr) {
        if (const Value* url = find_member(*v, "base_url")) {
            u.base_url = text_of(url);
            config::check_http_url(source, u.base_url, at + "/base_url", true);
            if (u.base_url.back() != '/') {
                u.base_url += '/';
            }
        }
        u.timeout = config::positive_duration(source, find_member(*v, "timeout"), u.timeout,
                                              at + "/timeout");
        u.connect_timeout = config::positive_duration(source, find_member(*v, "connect_timeout"),
                                                      u.connect_timeout, at + "/connect_timeout");
        if (const Value* m = find_member(*v, "max_response_bytes"); m != nullptr && m->IsUint64()) {
            u.max_response_bytes = static_cast<std::size_t>(m->GetUint64());
        }
        if (const Value* tls = find_member(*v, "tls")) {
            u.tls = config::load_tls(source, *tls, at + "/tls");
        }
        if (const Value* rate = find_member(*v, "rate_limit")) {
            load_rate_limit(source, *rate, at + "/rate_limit", u.rate_limit);
        }
    }
    u.headers = config::load_upstream_headers(
        source, v != nullptr ? find_member(*v, "headers") : nullptr, at + "/headers", false);
    return u;
}

}  // namespace

ConnectorSpec load_connector_spec(const ConnectorSource& source) {
    const Value& doc = source.document;
    ConnectorSpec spec;
    spec.geocoder =
        load_upstream(source, find_member(doc, "geocoder"), "/geocoder", default_geocoder_url);
    spec.api_geo =
        load_upstream(source, find_member(doc, "api_geo"), "/api_geo", default_api_geo_url);
    if (const Value* cache = find_member(doc, "cache")) {
        spec.cache.ttl = config::positive_duration(source, find_member(*cache, "ttl"),
                                                   spec.cache.ttl, "/cache/ttl");
        if (spec.cache.ttl > max_cache_age) {
            throw source.error_at("/cache/ttl", "the ttl must be at most 8760h (a year)");
        }
        if (const Value* stale = find_member(*cache, "max_stale")) {
            // Zero is meaningful here: no stale answer at all.
            const auto parsed = parse_duration(text_of(stale));
            if (!parsed || *parsed > max_cache_age) {
                throw source.error_at("/cache/max_stale",
                                      "expected a duration up to 8760h, such as 30m, 24h or 168h");
            }
            spec.cache.max_stale = *parsed;
        }
        if (const Value* n = find_member(*cache, "max_entries"); n != nullptr && n->IsUint64()) {
            spec.cache.max_entries = static_cast<std::size_t>(n->GetUint64());
        }
    }
    if (const Value* key = find_member(doc, "id_key")) {
        spec.id_key = text_of(key);
        if (spec.id_key.size() < min_secret_bytes) {
            throw source.error_at("/id_key", "the key of address ids needs at least " +
                                                 std::to_string(min_secret_bytes) + " bytes");
        }
    }
    const Value* endpoints = find_member(doc, "endpoints");
    if (endpoints == nullptr || !endpoints->IsObject() || endpoints->MemberCount() == 0) {
        throw source.error_at("/endpoints", "declare at least one endpoint");
    }
    for (const auto& m : endpoints->GetObject()) {
        const std::string_view name(m.name.GetString(), m.name.GetStringLength());
        const auto endpoint = endpoint_named(name);
        if (!endpoint) {
            std::string pointer = "/endpoints";
            config::append_pointer_token(pointer, name);
            throw source.error_at(pointer,
                                  "'" + std::string(name) +
                                      "' is not an endpoint of base-adresse (search, reverse, "
                                      "addresses, streets, cities, departments, regions)");
        }
        spec.endpoints.push_back(*endpoint);
    }
    return spec;
}

}  // namespace relais::base_adresse
