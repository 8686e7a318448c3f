#include "server/request_target.hpp"

#include <openssl/rand.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>

#include "core/url_encoding.hpp"

namespace relais::server {

std::optional<Target> parse_target(std::string_view target) {
    // origin-form (RFC 9112): an absolute path, then optionally '?' and a query.
    if (!target.starts_with('/') || !valid_uri_chars(target)) {
        return std::nullopt;
    }
    const auto question = target.find('?');
    const std::string_view path = target.substr(0, question);
    Target out;
    if (question != std::string_view::npos) {
        out.raw_query = target.substr(question + 1);
    }
    // Validated above: every escape decodes.
    for (std::size_t begin = 1; begin <= path.size();) {
        const auto slash = std::min(path.find('/', begin), path.size());
        out.segments.push_back(*url_decode(path.substr(begin, slash - begin), false));
        begin = slash + 1;
    }
    if (!out.segments.empty() && out.segments.back().empty()) {
        out.segments.pop_back();
    }
    return out;
}

QueryParams decode_query(std::string_view raw_query) {
    QueryParams out;
    if (raw_query.empty()) {
        return out;
    }
    // Every '&' ends a parameter, even an empty one; a parameter without
    // '=' has an empty value. A malformed escape is kept as sent.
    auto decoded = [](std::string_view text) {
        auto value = url_decode(text, true);
        return value ? std::move(*value) : std::string(text);
    };
    for (std::size_t begin = 0; begin <= raw_query.size();) {
        const auto amp = std::min(raw_query.find('&', begin), raw_query.size());
        const std::string_view param = raw_query.substr(begin, amp - begin);
        const auto eq = param.find('=');
        if (eq == std::string_view::npos) {
            out.emplace_back(decoded(param), std::string());
        } else {
            out.emplace_back(decoded(param.substr(0, eq)), decoded(param.substr(eq + 1)));
        }
        begin = amp + 1;
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
