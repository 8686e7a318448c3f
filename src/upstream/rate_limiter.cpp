#include "upstream/rate_limiter.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>

namespace relais::upstream {

namespace {

RateLimiter::Clock::duration interval_of(double per_second) {
    if (!(per_second > 0)) {
        throw std::invalid_argument("a rate limit needs a positive rate");
    }
    return std::chrono::duration_cast<RateLimiter::Clock::duration>(
        std::chrono::duration<double>(1.0 / per_second));
}

}  // namespace

RateLimiter::RateLimiter(double per_second, unsigned burst, std::chrono::milliseconds max_wait)
    : interval_(interval_of(per_second)),
      tolerance_(interval_ * (std::max(burst, 1U) - 1)),
      max_wait_(max_wait) {}

std::optional<RateLimiter::Clock::duration> RateLimiter::reserve(Clock::time_point now) {
    const std::lock_guard lock(mutex_);
    const Clock::time_point next = std::max(next_, now);
    // The turn at `next` may be taken `tolerance_` early: that is the burst.
    const Clock::duration wait = std::max(next - tolerance_ - now, Clock::duration::zero());
    if (wait > max_wait_) {
        return std::nullopt;
    }
    next_ = next + interval_;
    return wait;
}

void RateLimiter::hold_off(Clock::time_point now, Clock::duration pause) {
    const std::lock_guard lock(mutex_);
    // Past the pause, turns resume one at a time, not as a burst.
    next_ = std::max(next_, now + pause + tolerance_);
}

boost::asio::awaitable<bool> RateLimiter::acquire() {
    const auto wait = reserve(Clock::now());
    if (!wait) {
        co_return false;
    }
    if (*wait > Clock::duration::zero()) {
        boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, *wait);
        // A cancelled wait (the request is abandoned) still consumed its turn.
        co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    co_return true;
}

}  // namespace relais::upstream
