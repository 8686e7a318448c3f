#include "base-adresse/geo_upstream.hpp"

#include <algorithm>
#include <charconv>

#include "base-adresse/adopted_state.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "upstream/http_client.hpp"

namespace relais::base_adresse {

std::chrono::seconds retry_after_pause(const std::vector<Header>& headers) {
    const std::string* value = find_header(headers, "Retry-After");
    if (value == nullptr) {
        return std::chrono::seconds(1);
    }
    const std::string_view text = trim_ows(*value);
    unsigned long seconds = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (text.empty() || end != text.data() + text.size()) {
        return std::chrono::seconds(1);
    }
    if (ec == std::errc::result_out_of_range ||
        (ec == std::errc() && seconds >= static_cast<unsigned long>(max_retry_after.count()))) {
        return max_retry_after;
    }
    return ec == std::errc() ? std::chrono::seconds(seconds) : std::chrono::seconds(1);
}

GeoUpstream::GeoUpstream(UpstreamSpec spec, std::string connector, std::string name)
    : spec_(std::move(spec)),
      connector_(std::move(connector)),
      name_(std::move(name)),
      limiter_(adopt_rate_limiter(connector_, name_, spec_)) {
    if (!spec_.tls.verify) {
        log::warn("upstream_tls_verification_disabled",
                  {{"connector", connector_}, {"upstream", name_}});
    }
}

boost::asio::awaitable<std::variant<std::string, HttpResponse>> GeoUpstream::get(
    const std::string& target, std::string_view request_id, UpstreamStats& stats) const {
    if (!co_await limiter_->acquire()) {
        log::debug("base_adresse_rate_limited", {{"request_id", request_id},
                                                 {"connector", connector_},
                                                 {"upstream", name_},
                                                 {"by", "relais"}});
        co_return HttpResponse::failure(
            ErrorClass::upstream_rate_limited,
            "too many calls to the " + name_ + " upstream: relais keeps under its rate limit");
    }
    upstream::Request r;
    r.url = spec_.base_url + target;
    r.headers = spec_.headers;
    if (!request_id.empty()) {
        r.headers.push_back(Header{"X-Request-ID", std::string(request_id)});
    }
    r.timeout = spec_.timeout;
    r.connect_timeout = std::min(spec_.connect_timeout, spec_.timeout);
    r.max_response_bytes = spec_.max_response_bytes;
    r.tls = spec_.tls;
    upstream::Result result = co_await upstream::perform(std::move(r));
    stats.elapsed += result.elapsed;
    ++stats.attempts;
    // The target holds the searched values: it is never logged.
    log::debug("base_adresse_upstream_call",
               {{"request_id", request_id},
                {"connector", connector_},
                {"upstream", name_},
                {"status", result.response.status},
                {"elapsed_ms", static_cast<double>(result.elapsed.count()) / 1000.0}});
    switch (result.failure) {
        case upstream::Failure::none:
            break;
        case upstream::Failure::timeout:
            co_return HttpResponse::failure(ErrorClass::upstream_timeout,
                                            "the " + name_ + " upstream did not answer within " +
                                                std::to_string(spec_.timeout.count()) + " ms");
        case upstream::Failure::too_large:
            co_return HttpResponse::failure(upstream::error_class_of(result.failure),
                                            "the " + name_ + " upstream's answer is larger than " +
                                                std::to_string(spec_.max_response_bytes) +
                                                " bytes");
        case upstream::Failure::unreachable:
        case upstream::Failure::auth_failed:
            co_return HttpResponse::failure(
                upstream::error_class_of(result.failure),
                "the " + name_ + " upstream is unreachable: " + result.detail);
        case upstream::Failure::internal:
            co_return HttpResponse::failure(
                upstream::error_class_of(result.failure),
                "the " + name_ + " request could not be made: " + result.detail);
    }
    const long status = result.response.status;
    if (status == 429) {
        const auto pause = retry_after_pause(result.response.headers);
        limiter_->hold_off(upstream::RateLimiter::Clock::now(), pause);
        log::warn("base_adresse_upstream_429",
                  {{"connector", connector_}, {"upstream", name_}, {"pause_s", pause.count()}});
        co_return HttpResponse::failure(ErrorClass::upstream_rate_limited,
                                        "the " + name_ +
                                            " upstream asks relais to slow down (429); calls "
                                            "resume in " +
                                            std::to_string(pause.count()) + " s");
    }
    if (status < 200 || status > 299) {
        co_return HttpResponse::failure(
            ErrorClass::upstream_error,
            "the " + name_ + " upstream answered " + std::to_string(status));
    }
    co_return std::move(result.response.body);
}

}  // namespace relais::base_adresse
