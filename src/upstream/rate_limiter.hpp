#pragma once
/// @file
/// Spaces the calls relais makes to one upstream so that it stays under the
/// rate the upstream allows (the Géoplateforme: 50 requests/s per client,
/// 429 beyond). Shared by every I/O thread of a connector.
///
/// A call waits for its turn (a short timer on the caller's event loop, no
/// thread blocked) when that turn comes within `max_wait`; otherwise it is
/// refused at once, so that a burst beyond the rate never piles up waiting
/// requests: the caller answers 503 `upstream-rate-limited`.
///
/// The schedule is a virtual clock (GCRA): calls are spread one
/// `1/per_second` apart, and up to `burst` calls may go at once after a
/// quiet period.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <mutex>
#include <optional>

namespace relais::upstream {

class RateLimiter {
public:
    using Clock = std::chrono::steady_clock;

    /// `per_second` > 0, `burst` >= 1.
    RateLimiter(double per_second, unsigned burst, std::chrono::milliseconds max_wait);

    /// Takes a turn: true when the call may go now (after waiting if
    /// needed, on the calling coroutine's executor), false when its turn
    /// is beyond `max_wait` (nothing was taken).
    boost::asio::awaitable<bool> acquire();

    /// The non-waiting half of `acquire`: reserves a turn and returns how
    /// long to wait for it, or nullopt (nothing reserved) when that is
    /// beyond `max_wait`.
    std::optional<Clock::duration> reserve(Clock::time_point now);

    /// The upstream said to slow down (a 429, with its Retry-After if any):
    /// no turn is given before `now + pause`.
    void hold_off(Clock::time_point now, Clock::duration pause);

private:
    const Clock::duration interval_;
    const Clock::duration tolerance_;  ///< how far ahead of now turns may be taken at once
    const Clock::duration max_wait_;
    std::mutex mutex_;
    Clock::time_point next_ = Clock::time_point::min();  ///< theoretical time of the next turn
};

}  // namespace relais::upstream
