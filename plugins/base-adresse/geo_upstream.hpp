#pragma once
/// @file
/// One upstream of a base-adresse connector (the geocoder or API Geo):
/// rate-limited GET requests whose failures are already turned into the
/// answers relais gives (upstream errors, timeouts, 429s).

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "base-adresse/connector_spec.hpp"
#include "core/http_types.hpp"
#include "upstream/rate_limiter.hpp"

namespace relais::base_adresse {

/// Longest pause a 429's Retry-After may impose; without one, 1 s.
inline constexpr std::chrono::seconds max_retry_after{300};

/// The pause a 429 asks for: its Retry-After in seconds (an HTTP date is
/// not honoured), 1 s when absent or unreadable, at most max_retry_after.
std::chrono::seconds retry_after_pause(const std::vector<Header>& headers);

class GeoUpstream {
public:
    /// `name` ("geocoder", "api_geo") and `connector` are for logs and
    /// name the rate limiter, adopted from the connector's previous
    /// configuration when its settings are the same (adopted_state.hpp).
    GeoUpstream(UpstreamSpec spec, std::string connector, std::string name);

    /// GETs `target` (relative to base_url, escaped). The body of a 2xx
    /// answer, or the failure to send back: 503 upstream-rate-limited when
    /// over relais's own rate (the upstream is not called) or on a 429
    /// (relais then holds off), 502/504 for the rest.
    boost::asio::awaitable<std::variant<std::string, HttpResponse>> get(const std::string& target,
                                                                        std::string_view request_id,
                                                                        UpstreamStats& stats) const;

    const std::string& name() const noexcept { return name_; }

private:
    UpstreamSpec spec_;
    std::string connector_;
    std::string name_;
    std::shared_ptr<upstream::RateLimiter> limiter_;
};

}  // namespace relais::base_adresse
