#pragma once
/// @file
/// What a delivery attempt's answer means, and when to try again. Pure
/// functions, so that every rule is unit-tested without a network.
///
/// Pushes to business applications: 2xx delivered; network errors,
/// timeouts, 5xx, 408 and 429 retried (429/503 `Retry-After` honoured);
/// any other answer is final (dead letter after one attempt).
/// Triggers to w.c.s.: 2xx delivered; 404 (trigger unknown or not available
/// in the demand's current status) dead; 403 whose body says the demand is
/// "currently processing" retried; any other 403 dead; other answers as for
/// pushes.
/// New demands to w.c.s.: 2xx delivered; 404 (no such form, or not open
/// to submissions) dead `formdef-unavailable`; 408 and 429 retried; any
/// other 4xx dead `gru-refused`; other answers as for pushes.

#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "core/delivery_settings.hpp"
#include "outbox/outbox.hpp"

namespace relais::upstream {
struct Result;
}

namespace relais::delivery {

/// The meaning of one answer.
struct Decision {
    outbox::AttemptRecord::Verdict verdict = outbox::AttemptRecord::Verdict::delivered;
    unsigned status = 0;      ///< HTTP status, 0 without an answer
    std::string error_class;  ///< slug, empty when delivered
    std::string reason;       ///< log-safe words
    /// From a Retry-After header (seconds or HTTP date), if any.
    std::optional<std::chrono::milliseconds> retry_after;
};

Decision classify_push(const upstream::Result& result, outbox::Clock::time_point now);
Decision classify_trigger(const upstream::Result& result, outbox::Clock::time_point now);
Decision classify_demand(const upstream::Result& result, outbox::Clock::time_point now);

/// `Retry-After` as a delay from `now`: delta-seconds or an IMF-fixdate;
/// nullopt if absent or unreadable; a date in the past is zero.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           outbox::Clock::time_point now);

/// Delay before the next attempt after `attempts_done` failed attempts:
/// full jitter over min(max_backoff, initial_backoff * 2^(attempts_done-1)),
/// or `retry_after` when given (the upstream's word, beyond max_backoff
/// if it says so; max_age still bounds it through settle).
std::chrono::milliseconds next_delay(const DeliveryPolicy& policy, unsigned attempts_done,
                                     std::optional<std::chrono::milliseconds> retry_after,
                                     std::mt19937_64& random);

/// Applies the policy's bounds to a retry decision: it becomes dead when
/// `attempts_done` reached max_attempts ("max-attempts") or the next attempt
/// would fall after created + max_age ("max-age").
outbox::AttemptRecord settle(const Decision& decision, const DeliveryPolicy& policy,
                             unsigned attempts_done, outbox::Clock::time_point created,
                             outbox::Clock::time_point now, std::mt19937_64& random);

}  // namespace relais::delivery
