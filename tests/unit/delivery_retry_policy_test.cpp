#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "delivery/retry_policy.hpp"
#include "upstream/http_client.hpp"

using namespace relais;
using namespace relais::delivery;
using namespace std::chrono_literals;
using Verdict = outbox::AttemptRecord::Verdict;
using outbox::Clock;

namespace {

/// 2024-01-07 08:49:37 UTC, a Sunday.
const Clock::time_point fixed_now =
    Clock::time_point(std::chrono::sys_days(std::chrono::year(2024) / 1 / 7)) + 8h + 49min + 37s;

upstream::Result answer(long status, std::string body = {}, std::vector<Header> headers = {}) {
    upstream::Result result;
    result.response.status = status;
    result.response.body = std::move(body);
    result.response.headers = std::move(headers);
    return result;
}

upstream::Result failed(upstream::Failure failure, std::string detail = "connection refused") {
    upstream::Result result;
    result.failure = failure;
    result.detail = std::move(detail);
    return result;
}

struct Row {
    long status;
    Verdict verdict;
    const char* error_class;
};

std::string label(const Row& row) {
    return "status " + std::to_string(row.status);
}

}  // namespace

TEST(DeliveryClassifyPush, StatusTable) {
    const Row rows[] = {
        {200, Verdict::delivered, ""},           {201, Verdict::delivered, ""},
        {202, Verdict::delivered, ""},           {204, Verdict::delivered, ""},
        {408, Verdict::retry, "upstream-error"}, {429, Verdict::retry, "upstream-error"},
        {500, Verdict::retry, "upstream-error"}, {502, Verdict::retry, "upstream-error"},
        {503, Verdict::retry, "upstream-error"}, {504, Verdict::retry, "upstream-error"},
        {400, Verdict::dead, "upstream-error"},  {401, Verdict::dead, "upstream-error"},
        {403, Verdict::dead, "upstream-error"},  {404, Verdict::dead, "upstream-error"},
        {409, Verdict::dead, "upstream-error"},  {422, Verdict::dead, "upstream-error"},
        {301, Verdict::dead, "upstream-error"},
    };
    for (const Row& row : rows) {
        const Decision decision = classify_push(answer(row.status, "secret body"), fixed_now);
        EXPECT_EQ(decision.verdict, row.verdict) << label(row);
        EXPECT_EQ(decision.error_class, row.error_class) << label(row);
        EXPECT_EQ(decision.status, static_cast<unsigned>(row.status)) << label(row);
        EXPECT_EQ(decision.reason.find("secret"), std::string::npos) << label(row);
        if (row.verdict != Verdict::delivered) {
            EXPECT_EQ(decision.reason, "upstream answered " + std::to_string(row.status));
        }
    }
}

TEST(DeliveryClassifyPush, FailureTable) {
    struct FailureRow {
        upstream::Failure failure;
        Verdict verdict;
        const char* error_class;
    };
    const FailureRow rows[] = {
        {upstream::Failure::unreachable, Verdict::retry, "upstream-unreachable"},
        {upstream::Failure::timeout, Verdict::retry, "upstream-timeout"},
        {upstream::Failure::auth_failed, Verdict::retry, "upstream-unreachable"},
        {upstream::Failure::too_large, Verdict::dead, "upstream-invalid-response"},
        {upstream::Failure::internal, Verdict::dead, "internal-error"},
    };
    for (const FailureRow& row : rows) {
        const Decision decision = classify_push(failed(row.failure), fixed_now);
        EXPECT_EQ(decision.verdict, row.verdict) << row.error_class;
        EXPECT_EQ(decision.error_class, row.error_class);
        EXPECT_EQ(decision.status, 0u);
        EXPECT_EQ(decision.reason, "connection refused");
    }
}

TEST(DeliveryClassifyPush, RetryAfterOnlyOn429And503) {
    const std::vector<Header> headers = {{"retry-after", "120"}};
    EXPECT_EQ(classify_push(answer(429, {}, headers), fixed_now).retry_after, 120s);
    EXPECT_EQ(classify_push(answer(503, {}, headers), fixed_now).retry_after, 120s);
    EXPECT_FALSE(classify_push(answer(500, {}, headers), fixed_now).retry_after);
    EXPECT_FALSE(classify_push(answer(502, {}, headers), fixed_now).retry_after);
    EXPECT_FALSE(classify_push(answer(503), fixed_now).retry_after);
    EXPECT_FALSE(classify_push(answer(429, {}, {{"Retry-After", "soon"}}), fixed_now).retry_after);
}

TEST(DeliveryClassifyTrigger, WcsAnswers) {
    const auto trigger = [](upstream::Result result) {
        return classify_trigger(result, fixed_now);
    };
    EXPECT_EQ(trigger(answer(200, R"({"err":0})")).verdict, Verdict::delivered);
    EXPECT_EQ(trigger(answer(204)).verdict, Verdict::delivered);

    const Decision unavailable = trigger(answer(404, R"({"err":1})"));
    EXPECT_EQ(unavailable.verdict, Verdict::dead);
    EXPECT_EQ(unavailable.error_class, "trigger-unavailable");
    EXPECT_EQ(unavailable.status, 404u);

    const Decision busy =
        trigger(answer(403, R"({"err":1,"err_desc":"formdata currently processing actions"})"));
    EXPECT_EQ(busy.verdict, Verdict::retry);
    EXPECT_EQ(busy.error_class, "gru-busy");
    EXPECT_EQ(trigger(answer(403, "Form Is Currently Processing")).verdict, Verdict::retry);

    const Decision refused = trigger(answer(403, R"({"err":1,"err_desc":"unsigned API call"})"));
    EXPECT_EQ(refused.verdict, Verdict::dead);
    EXPECT_EQ(refused.error_class, "gru-refused");
    EXPECT_EQ(refused.reason.find("unsigned"), std::string::npos);

    // The rest as for pushes.
    EXPECT_EQ(trigger(answer(400)).verdict, Verdict::dead);
    EXPECT_EQ(trigger(answer(400)).error_class, "upstream-error");
    EXPECT_EQ(trigger(answer(500)).verdict, Verdict::retry);
    EXPECT_EQ(trigger(answer(408)).verdict, Verdict::retry);
    EXPECT_EQ(trigger(answer(429, {}, {{"Retry-After", "5"}})).retry_after, 5s);
    EXPECT_EQ(trigger(failed(upstream::Failure::timeout)).error_class, "upstream-timeout");
    EXPECT_EQ(trigger(failed(upstream::Failure::unreachable)).verdict, Verdict::retry);
}

TEST(DeliveryRetryAfter, DeltaSeconds) {
    EXPECT_EQ(parse_retry_after("0", fixed_now), 0ms);
    EXPECT_EQ(parse_retry_after("30", fixed_now), 30s);
    EXPECT_EQ(parse_retry_after(" 7 ", fixed_now), 7s);
    // Absurd values are capped instead of overflowing.
    const auto huge = parse_retry_after("99999999999999999999999", fixed_now);
    ASSERT_TRUE(huge);
    EXPECT_GT(*huge, 24h);
    EXPECT_LE(*huge, std::chrono::hours(24 * 366));
    EXPECT_EQ(parse_retry_after("999999999", fixed_now), *huge);
}

TEST(DeliveryRetryAfter, HttpDate) {
    EXPECT_EQ(parse_retry_after("Sun, 07 Jan 2024 08:50:37 GMT", fixed_now), 60s);
    EXPECT_EQ(parse_retry_after("Mon, 08 Jan 2024 08:49:37 GMT", fixed_now), 24h);
    // In the past: now.
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", fixed_now), 0ms);
}

TEST(DeliveryRetryAfter, Unreadable) {
    for (const char* value : {"", "-1", "1.5", "soon", "Sunday, 06-Nov-94 08:49:37 GMT",
                              "Sun Nov  6 08:49:37 1994", "Sun, 06 Nov 1994 08:49:37 UTC",
                              "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 31 Feb 2024 08:49:37 GMT",
                              "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT"}) {
        EXPECT_FALSE(parse_retry_after(value, fixed_now)) << value;
    }
}

TEST(DeliveryNextDelay, FullJitterWithinTheGrowingCap) {
    DeliveryPolicy policy;
    policy.initial_backoff = 1s;
    policy.max_backoff = 10s;
    std::mt19937_64 random(42);
    const std::pair<unsigned, std::chrono::milliseconds> caps[] = {
        {0, 1s}, {1, 1s}, {2, 2s}, {3, 4s}, {4, 8s}, {5, 10s}, {6, 10s}, {1000, 10s}};
    for (const auto& [attempts, cap] : caps) {
        std::chrono::milliseconds lowest = cap;
        std::chrono::milliseconds highest{0};
        for (int i = 0; i < 2000; ++i) {
            const auto delay = next_delay(policy, attempts, std::nullopt, random);
            ASSERT_GE(delay, 0ms);
            ASSERT_LE(delay, cap) << attempts;
            lowest = std::min(lowest, delay);
            highest = std::max(highest, delay);
        }
        // Spread over the whole range, not stuck at one end.
        EXPECT_LT(lowest, cap / 10) << attempts;
        EXPECT_GT(highest, cap * 9 / 10) << attempts;
    }
}

TEST(DeliveryNextDelay, RetryAfterReplacesTheBackoffEvenBeyondMaxBackoff) {
    DeliveryPolicy policy;
    policy.initial_backoff = 1s;
    policy.max_backoff = 60s;
    std::mt19937_64 random(1);
    EXPECT_EQ(next_delay(policy, 1, 30s, random), 30s);
    EXPECT_EQ(next_delay(policy, 1, 0ms, random), 0ms);
    EXPECT_EQ(next_delay(policy, 1, 1h, random), 1h);
}

TEST(DeliverySettle, DeliveredAndDeadPassThrough) {
    DeliveryPolicy policy;
    std::mt19937_64 random(1);
    Decision delivered;
    delivered.status = 201;
    const auto done = settle(delivered, policy, 1, fixed_now, fixed_now, random);
    EXPECT_EQ(done.verdict, Verdict::delivered);
    EXPECT_EQ(done.status, 201u);
    EXPECT_TRUE(done.error_class.empty());

    Decision dead;
    dead.verdict = Verdict::dead;
    dead.status = 400;
    dead.error_class = "upstream-error";
    dead.reason = "upstream answered 400";
    const auto given_up = settle(dead, policy, 1, fixed_now, fixed_now, random);
    EXPECT_EQ(given_up.verdict, Verdict::dead);
    EXPECT_EQ(given_up.error_class, "upstream-error");
    EXPECT_EQ(given_up.reason, "upstream answered 400");
}

TEST(DeliverySettle, RetryIsScheduledWithinTheBackoff) {
    DeliveryPolicy policy;
    policy.initial_backoff = 2s;
    policy.max_backoff = 1min;
    std::mt19937_64 random(7);
    Decision retry;
    retry.verdict = Verdict::retry;
    retry.status = 503;
    retry.error_class = "upstream-error";
    retry.reason = "upstream answered 503";
    const auto record = settle(retry, policy, 3, fixed_now, fixed_now, random);
    EXPECT_EQ(record.verdict, Verdict::retry);
    EXPECT_EQ(record.status, 503u);
    EXPECT_EQ(record.error_class, "upstream-error");
    EXPECT_GE(record.next_attempt, fixed_now);
    EXPECT_LE(record.next_attempt, fixed_now + 8s);

    retry.retry_after = 45s;
    EXPECT_EQ(settle(retry, policy, 3, fixed_now, fixed_now, random).next_attempt, fixed_now + 45s);
}

TEST(DeliverySettle, MaxAttempts) {
    DeliveryPolicy policy;
    policy.max_attempts = 3;
    std::mt19937_64 random(7);
    Decision retry;
    retry.verdict = Verdict::retry;
    retry.status = 500;
    retry.error_class = "upstream-error";
    retry.reason = "upstream answered 500";
    EXPECT_EQ(settle(retry, policy, 2, fixed_now, fixed_now, random).verdict, Verdict::retry);
    const auto record = settle(retry, policy, 3, fixed_now, fixed_now, random);
    EXPECT_EQ(record.verdict, Verdict::dead);
    EXPECT_EQ(record.error_class, "max-attempts");
    EXPECT_EQ(record.status, 500u);
    EXPECT_NE(record.reason.find("upstream answered 500"), std::string::npos);
}

TEST(DeliverySettle, MaxAge) {
    DeliveryPolicy policy;
    policy.max_age = 1h;
    policy.max_backoff = 10min;
    std::mt19937_64 random(7);
    Decision retry;
    retry.verdict = Verdict::retry;
    retry.status = 0;
    retry.error_class = "upstream-timeout";
    retry.reason = "connection timed out";
    const auto created = fixed_now - 30min;
    EXPECT_EQ(settle(retry, policy, 1, created, fixed_now, random).verdict, Verdict::retry);
    // The next attempt would fall after created + max_age.
    retry.retry_after = 31min;
    policy.max_backoff = 1h;
    const auto record = settle(retry, policy, 1, created, fixed_now, random);
    EXPECT_EQ(record.verdict, Verdict::dead);
    EXPECT_EQ(record.error_class, "max-age");
    EXPECT_NE(record.reason.find("connection timed out"), std::string::npos);
    // Already past max_age: dead even with no wait at all.
    retry.retry_after = 0ms;
    EXPECT_EQ(settle(retry, policy, 1, fixed_now - 2h, fixed_now, random).error_class, "max-age");
}
