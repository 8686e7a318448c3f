#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "auth/nonce_cache.hpp"

namespace relais::auth {
namespace {

using namespace std::chrono_literals;
using Outcome = NonceCache::Outcome;

const std::chrono::system_clock::time_point t0{std::chrono::seconds(1'700'000'000)};

TEST(AuthNonceCache, RefusesAReplayUntilExpiry) {
    NonceCache cache;
    EXPECT_EQ(cache.remember("s", "n1", t0, t0 + 30s), Outcome::recorded);
    EXPECT_EQ(cache.remember("s", "n1", t0 + 1s, t0 + 31s), Outcome::replayed);
    EXPECT_EQ(cache.remember("s", "n1", t0 + 29s, t0 + 59s), Outcome::replayed);
    EXPECT_EQ(cache.remember("s", "n2", t0 + 29s, t0 + 59s), Outcome::recorded);
    // Still known at its expiry, forgotten just after it.
    EXPECT_EQ(cache.remember("s", "n1", t0 + 30s, t0 + 60s), Outcome::replayed);
    EXPECT_EQ(cache.remember("s", "n1", t0 + 30s + 1ns, t0 + 60s), Outcome::recorded);
}

TEST(AuthNonceCache, DropsExpiredEntries) {
    NonceCache cache;
    for (int i = 0; i < 100; ++i) {
        cache.remember("s", "n" + std::to_string(i), t0, t0 + 30s);
    }
    EXPECT_EQ(cache.size(), 100u);
    cache.remember("s", "later", t0 + 31s, t0 + 61s);
    EXPECT_EQ(cache.size(), 1u);
}

TEST(AuthNonceCache, ExpiresInTimeOrderWhateverTheInsertionOrder) {
    NonceCache cache;
    cache.remember("s", "long", t0, t0 + 60s);
    cache.remember("s", "short", t0, t0 + 10s);
    EXPECT_EQ(cache.remember("s", "short", t0 + 11s, t0 + 41s), Outcome::recorded);
    EXPECT_EQ(cache.remember("s", "long", t0 + 11s, t0 + 41s), Outcome::replayed);
}

TEST(AuthNonceCache, RefusesNewNoncesWhenFullRatherThanForgetting) {
    NonceCache cache(3, 3);
    EXPECT_EQ(cache.remember("s", "a", t0, t0 + 30s), Outcome::recorded);
    EXPECT_EQ(cache.remember("s", "b", t0, t0 + 30s), Outcome::recorded);
    EXPECT_EQ(cache.remember("s", "c", t0, t0 + 30s), Outcome::recorded);
    EXPECT_EQ(cache.remember("s", "d", t0 + 1s, t0 + 31s), Outcome::full);
    // Live entries are still remembered.
    EXPECT_EQ(cache.remember("s", "a", t0 + 1s, t0 + 31s), Outcome::replayed);
    EXPECT_EQ(cache.size(), 3u);
    // Room again once they expire.
    EXPECT_EQ(cache.remember("s", "d", t0 + 30s, t0 + 60s), Outcome::full);
    EXPECT_EQ(cache.remember("s", "d", t0 + 31s, t0 + 61s), Outcome::recorded);
}

TEST(AuthNonceCache, ScopesAreApartAndEachHasItsShare) {
    NonceCache cache(4, 2);
    // Each nonce is used `at` seconds after t0 and valid 30 s from then.
    struct Use {
        const char* scope;
        const char* nonce;
        std::chrono::seconds at;
        Outcome expected;
    };
    const Use uses[] = {
        {"wcs", "n", 0s, Outcome::recorded},
        // The same nonce from another caller is another entry.
        {"other", "n", 0s, Outcome::recorded},
        {"wcs", "m", 0s, Outcome::recorded},
        // "wcs" has its half: its new nonces are refused, the others' are not.
        {"wcs", "o", 0s, Outcome::full},
        {"other", "o", 0s, Outcome::recorded},
        {"wcs", "n", 0s, Outcome::replayed},
        // A scope and nonce that read as another pair do not collide.
        {"a", "bc", 31s, Outcome::recorded},
        {"ab", "c", 31s, Outcome::recorded},
        // Room again for "wcs" once its entries expire.
        {"wcs", "o", 31s, Outcome::recorded},
    };
    for (const Use& use : uses) {
        EXPECT_EQ(cache.remember(use.scope, use.nonce, t0 + use.at, t0 + use.at + 30s),
                  use.expected)
            << use.scope << " " << use.nonce;
    }
}

TEST(AuthNonceCache, LongNoncesTakeNoMoreRoom) {
    NonceCache cache(2, 2);
    const std::string big(10'000, 'x');
    EXPECT_EQ(cache.remember("s", big, t0, t0 + 30s), Outcome::recorded);
    EXPECT_EQ(cache.remember("s", big, t0, t0 + 30s), Outcome::replayed);
    EXPECT_EQ(cache.remember("s", big + "y", t0, t0 + 30s), Outcome::recorded);
}

TEST(AuthNonceCache, OneWinnerAcrossThreads) {
    NonceCache cache;
    std::atomic<int> recorded{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 1000; ++i) {
                if (cache.remember("s", "n" + std::to_string(i), t0, t0 + 30s) ==
                    Outcome::recorded) {
                    ++recorded;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(recorded.load(), 1000);
    EXPECT_EQ(cache.size(), 1000u);
}

}  // namespace
}  // namespace relais::auth
