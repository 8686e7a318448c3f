#include "server/request_target.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/url/params_view.hpp>
#include <boost/url/parse.hpp>
#include <chrono>
#include <cstdint>

#include "core/url_encoding.hpp"

namespace relais::server {

std::optional<Target> parse_target(std::string_view target) {
    const auto parsed = boost::urls::parse_origin_form(target);
    if (!parsed) {
        return std::nullopt;
    }
    Target out;
    for (const auto& segment : parsed->segments()) {
        out.segments.push_back(segment);
    }
    if (!out.segments.empty() && out.segments.back().empty()) {
        out.segments.pop_back();
    }
    if (parsed->has_query()) {
        // parse_origin_form keeps views into `target`, so this one does too.
        const auto query = parsed->encoded_query();
        out.raw_query = std::string_view(query.data(), query.size());
    }
    return out;
}

QueryParams decode_query(std::string_view raw_query) {
    QueryParams out;
    if (raw_query.empty()) {
        return out;
    }
    for (const auto& param : boost::urls::params_view(raw_query)) {
        out.emplace_back(param.key, param.value);
    }
    return out;
}

std::optional<RoutePath> route_of(std::vector<std::string> segments) {
    if (segments.size() < 3 || segments[0].empty() || segments[1].empty() || segments[2].empty()) {
        return std::nullopt;
    }
    RoutePath route{std::move(segments[0]), std::move(segments[1]), std::move(segments[2]), {}};
    for (std::size_t i = 3; i < segments.size(); ++i) {
        if (i > 3) {
            route.rest += '/';
        }
        route.rest += segments[i];
    }
    return route;
}

bool valid_request_id(std::string_view id) noexcept {
    if (id.empty() || id.size() > 128) {
        return false;
    }
    for (char c : id) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

std::string new_request_id() {
    std::array<unsigned char, 16> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        // Ids must stay unique even if the CSPRNG fails; they need not be secret.
        static std::atomic<std::uint64_t> counter{0};
        const auto now =
            static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
        const auto n = counter.fetch_add(1, std::memory_order_relaxed);
        for (std::size_t i = 0; i < 8; ++i) {
            bytes[i] = static_cast<unsigned char>(now >> (8 * i));
            bytes[8 + i] = static_cast<unsigned char>(n >> (8 * i));
        }
    }
    return hex_encode(bytes);
}

std::string request_id_from(const std::string* header) {
    if (header != nullptr && valid_request_id(*header)) {
        return *header;
    }
    return new_request_id();
}

}  // namespace relais::server
