#include "server/request_target.hpp"

#include <openssl/rand.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/url/params_view.hpp>
#include <boost/url/parse.hpp>
#include <chrono>
#include <cstdint>
#include <random>

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
    // Ids only need to be unique: they correlate log lines and a client may
    // choose its own. A generator per thread, seeded once from the CSPRNG,
    // spares a RAND_bytes call (and OpenSSL's getpid check) per request.
    thread_local std::mt19937_64 generator = [] {
        std::array<std::uint32_t, 8> seed{};
        if (RAND_bytes(reinterpret_cast<unsigned char*>(seed.data()),
                       static_cast<int>(sizeof seed)) != 1) {
            // Still distinct per thread and per start if the CSPRNG fails.
            static std::atomic<std::uint32_t> counter{0};
            const auto now = static_cast<std::uint64_t>(
                std::chrono::system_clock::now().time_since_epoch().count());
            seed = {static_cast<std::uint32_t>(now), static_cast<std::uint32_t>(now >> 32),
                    counter.fetch_add(1, std::memory_order_relaxed),
                    static_cast<std::uint32_t>(getpid())};
        }
        std::seed_seq sequence(seed.begin(), seed.end());
        return std::mt19937_64(sequence);
    }();
    std::array<unsigned char, 16> bytes{};
    const std::uint64_t high = generator();
    const std::uint64_t low = generator();
    for (std::size_t i = 0; i < 8; ++i) {
        bytes[i] = static_cast<unsigned char>(high >> (8 * i));
        bytes[8 + i] = static_cast<unsigned char>(low >> (8 * i));
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
