// Per-address rate limit of calls without credentials (server/address_limiter.hpp).
#include <gtest/gtest.h>

#include <chrono>

#include "server/address_limiter.hpp"

using namespace relais::server;
using namespace std::chrono_literals;
using boost::asio::ip::make_address;

namespace {

const auto t0 = AddressLimiter::Clock::time_point{} + 1h;

}  // namespace

TEST(AddressLimiter, BurstThenRateThenWait) {
    AddressLimiter limiter;
    const auto a = make_address("192.0.2.1");
    for (int i = 0; i < 3; ++i) {
        EXPECT_FALSE(limiter.take(a, 2.0, 3, t0)) << i;
    }
    const auto wait = limiter.take(a, 2.0, 3, t0);
    ASSERT_TRUE(wait);
    EXPECT_EQ(*wait, 500ms);
    // One turn comes back every 1/per_second.
    EXPECT_FALSE(limiter.take(a, 2.0, 3, t0 + 500ms));
    EXPECT_TRUE(limiter.take(a, 2.0, 3, t0 + 500ms));
    EXPECT_FALSE(limiter.take(a, 2.0, 3, t0 + 1s));
}

TEST(AddressLimiter, AddressesAreCountedApartButAnIpv6SubscriberByIts64) {
    AddressLimiter limiter;
    EXPECT_FALSE(limiter.take(make_address("192.0.2.1"), 1.0, 1, t0));
    EXPECT_TRUE(limiter.take(make_address("192.0.2.1"), 1.0, 1, t0));
    EXPECT_TRUE(limiter.take(make_address("::ffff:192.0.2.1"), 1.0, 1, t0));
    EXPECT_FALSE(limiter.take(make_address("192.0.2.2"), 1.0, 1, t0));
    EXPECT_FALSE(limiter.take(make_address("2001:db8:1:2::1"), 1.0, 1, t0));
    EXPECT_TRUE(limiter.take(make_address("2001:db8:1:2:ffff::9"), 1.0, 1, t0));
    EXPECT_FALSE(limiter.take(make_address("2001:db8:1:3::1"), 1.0, 1, t0));
    EXPECT_EQ(limiter.size(), 4u);
}

TEST(AddressLimiter, AFullTableForgetsIdleAddressesOrRefusesNewOnes) {
    AddressLimiter limiter(2);
    EXPECT_FALSE(limiter.take(make_address("192.0.2.1"), 1.0, 1, t0));
    EXPECT_FALSE(limiter.take(make_address("192.0.2.2"), 1.0, 1, t0));
    // Full, and both still owe a turn: a third address is refused.
    EXPECT_TRUE(limiter.take(make_address("192.0.2.3"), 1.0, 1, t0));
    // Once their turns are back, they are forgotten for the newcomer.
    EXPECT_FALSE(limiter.take(make_address("192.0.2.3"), 1.0, 1, t0 + 2s));
    EXPECT_EQ(limiter.size(), 1u);
}

TEST(AddressLimiter, ANewRateAppliesAtOnce) {
    AddressLimiter limiter;
    const auto a = make_address("192.0.2.1");
    EXPECT_FALSE(limiter.take(a, 1.0, 1, t0));
    EXPECT_TRUE(limiter.take(a, 1.0, 1, t0));
    EXPECT_FALSE(limiter.take(a, 1.0, 5, t0));
}
