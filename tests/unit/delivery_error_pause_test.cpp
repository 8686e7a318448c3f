#include <gtest/gtest.h>

#include "delivery/error_pause.hpp"

using namespace relais::delivery;
using namespace std::chrono_literals;
using Clock = ErrorPause::Clock;

namespace {

constexpr Clock::time_point start = Clock::time_point(1000h);

/// Three errors in a row, each as the previous pause ends: paused until
/// start + 7 s.
ErrorPause after_three_errors() {
    ErrorPause pause;
    pause.failed(start);
    pause.failed(start + 1s);
    pause.failed(start + 3s);
    return pause;
}

TEST(ErrorPause, NotActiveBeforeAnyError) {
    const ErrorPause pause;
    EXPECT_FALSE(pause.active(start));
}

TEST(ErrorPause, FirstErrorPausesOneSecond) {
    ErrorPause pause;
    pause.failed(start);
    EXPECT_TRUE(pause.active(start));
    EXPECT_TRUE(pause.active(start + 999ms));
    EXPECT_FALSE(pause.active(start + 1s));
    EXPECT_EQ(pause.until(), start + 1s);
}

TEST(ErrorPause, ErrorsInARowDoubleThePauseUpTo32Seconds) {
    ErrorPause pause;
    auto now = start;
    for (const auto expected : {1s, 2s, 4s, 8s, 16s, 32s, 32s, 32s}) {
        pause.failed(now);
        EXPECT_EQ(pause.until() - now, expected);
        // The next error comes as soon as the pause ends.
        now = pause.until();
    }
}

TEST(ErrorPause, ErrorsDuringAPauseDoNotLengthenIt) {
    ErrorPause pause;
    pause.failed(start);
    pause.failed(start + 10ms);
    pause.failed(start + 999ms);
    EXPECT_EQ(pause.until(), start + 1s);
    // The next pause after it is the second of the episode, not the fourth.
    pause.failed(start + 1s);
    EXPECT_EQ(pause.until(), start + 3s);
}

TEST(ErrorPause, ARecordedAttemptEndsTheEpisode) {
    ErrorPause pause = after_three_errors();
    EXPECT_EQ(pause.until(), start + 7s);
    pause.succeeded();
    pause.failed(start + 7s);
    EXPECT_EQ(pause.until(), start + 8s);
}

TEST(ErrorPause, ARecordedAttemptDuringAPauseDoesNotEndIt) {
    ErrorPause pause;
    pause.failed(start);
    pause.failed(start + 1s);
    // An attempt that was in flight reaches the outbox during the pause.
    pause.succeeded();
    EXPECT_TRUE(pause.active(start + 2500ms));
    EXPECT_EQ(pause.until(), start + 3s);
}

TEST(ErrorPause, AnErrorLongAfterTheLastPauseStartsAgainAtOneSecond) {
    ErrorPause pause = after_three_errors();
    ASSERT_EQ(pause.until(), start + 7s);
    // Within 32 s of the end of the last pause: still the same episode.
    pause.failed(start + 7s + 32s);
    EXPECT_EQ(pause.until(), start + 39s + 8s);
    // More than 32 s after it: a new one.
    pause.failed(start + 47s + 32s + 1ms);
    EXPECT_EQ(pause.until(), start + 79s + 1ms + 1s);
}

}  // namespace
