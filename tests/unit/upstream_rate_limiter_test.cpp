#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <stdexcept>

#include "upstream/rate_limiter.hpp"

using namespace relais::upstream;
using namespace std::chrono_literals;
using Clock = RateLimiter::Clock;

TEST(UpstreamRateLimiter, ABurstGoesAtOnceThenTurnsAreSpaced) {
    RateLimiter limiter(10, 3, 1s);  // one turn per 100 ms
    const auto t = Clock::now();
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(limiter.reserve(t), Clock::duration::zero()) << i;
    }
    EXPECT_EQ(limiter.reserve(t), 100ms);
    EXPECT_EQ(limiter.reserve(t), 200ms);
    // Time passing gives turns back, up to the burst.
    EXPECT_EQ(limiter.reserve(t + 10s), Clock::duration::zero());
}

TEST(UpstreamRateLimiter, TurnsBeyondMaxWaitAreRefusedWithoutBeingTaken) {
    RateLimiter limiter(10, 1, 150ms);
    const auto t = Clock::now();
    EXPECT_EQ(limiter.reserve(t), Clock::duration::zero());
    EXPECT_EQ(limiter.reserve(t), 100ms);
    EXPECT_FALSE(limiter.reserve(t).has_value());  // would be 200 ms
    EXPECT_FALSE(limiter.reserve(t).has_value());  // the refusal took nothing
    EXPECT_EQ(limiter.reserve(t + 100ms), 100ms);
}

TEST(UpstreamRateLimiter, AtMostTheRateOverAnyLongPeriod) {
    RateLimiter limiter(50, 10, 0ms);
    auto t = Clock::now();
    const auto start = t;
    int granted = 0;
    for (int step = 0; step < 10'000; ++step) {  // 10 s in 1 ms steps, 5 callers each
        for (int caller = 0; caller < 5; ++caller) {
            granted += limiter.reserve(t).has_value() ? 1 : 0;
        }
        t += 1ms;
    }
    const double seconds = std::chrono::duration<double>(t - start).count();
    EXPECT_LE(granted, static_cast<int>(50 * seconds) + 10);
    EXPECT_GE(granted, static_cast<int>(50 * seconds) - 1);
}

TEST(UpstreamRateLimiter, HoldOffPausesEveryTurn) {
    RateLimiter limiter(100, 5, 2s);
    const auto t = Clock::now();
    limiter.hold_off(t, 1s);
    EXPECT_EQ(limiter.reserve(t), 1s);
    // After the pause, no burst: turns resume one interval apart.
    EXPECT_EQ(limiter.reserve(t), 1s + 10ms);
    RateLimiter strict(100, 5, 500ms);
    strict.hold_off(t, 1s);
    EXPECT_FALSE(strict.reserve(t).has_value());
}

TEST(UpstreamRateLimiter, AcquireWaitsOnTheCallersEventLoop) {
    boost::asio::io_context io;
    RateLimiter limiter(20, 1, 1s);  // 50 ms apart
    const auto started = Clock::now();
    auto done = boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<int> {
            int granted = 0;
            for (int i = 0; i < 3; ++i) {
                granted += (co_await limiter.acquire()) ? 1 : 0;
            }
            co_return granted;
        },
        boost::asio::use_future);
    io.run();
    EXPECT_EQ(done.get(), 3);
    EXPECT_GE(Clock::now() - started, 100ms);
}

TEST(UpstreamRateLimiter, NonPositiveRateIsRefused) {
    EXPECT_THROW(RateLimiter(0, 1, 1s), std::invalid_argument);
}
