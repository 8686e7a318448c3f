#include "delivery/retry_policy.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "core/error_class.hpp"
#include "core/strings.hpp"
#include "upstream/http_client.hpp"

namespace relais::delivery {

namespace {

using outbox::Clock;
using Verdict = outbox::AttemptRecord::Verdict;
using std::chrono::milliseconds;

/// Beyond this a Retry-After is nonsense; capping keeps the arithmetic
/// far from overflow (settle dead-letters a message whose next attempt
/// would fall after its max_age anyway).
constexpr std::chrono::hours longest_retry_after{24 * 366};

std::string slug(ErrorClass error) {
    return std::string(describe(error).slug);
}

Decision answered(long status, std::string error_class, std::string reason, Verdict verdict) {
    Decision decision;
    decision.verdict = verdict;
    decision.status = static_cast<unsigned>(status);
    decision.error_class = std::move(error_class);
    decision.reason = std::move(reason);
    return decision;
}

std::string upstream_answered(long status) {
    return "upstream answered " + std::to_string(status);
}

Decision from_failure(const upstream::Result& result) {
    Decision decision;
    decision.reason = result.detail;
    switch (result.failure) {
        case upstream::Failure::unreachable:
        case upstream::Failure::auth_failed:
            // A token endpoint that does not answer is the upstream being
            // down as far as delivery goes: waiting can fix it.
            decision.verdict = Verdict::retry;
            decision.error_class = slug(ErrorClass::upstream_unreachable);
            break;
        case upstream::Failure::timeout:
            decision.verdict = Verdict::retry;
            decision.error_class = slug(ErrorClass::upstream_timeout);
            break;
        case upstream::Failure::too_large:
            // An answer too large now will be as large after a wait.
            decision.verdict = Verdict::dead;
            decision.error_class = slug(ErrorClass::upstream_invalid_response);
            break;
        case upstream::Failure::internal:
        case upstream::Failure::none:
            decision.verdict = Verdict::dead;
            decision.error_class = slug(ErrorClass::internal_error);
            break;
    }
    if (decision.reason.empty()) {
        decision.reason = "no answer";
    }
    return decision;
}

bool all_digits(std::string_view text) noexcept {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int number(std::string_view digits) noexcept {
    int value = 0;
    for (char c : digits) {
        value = value * 10 + (c - '0');
    }
    return value;
}

/// An IMF-fixdate (RFC 9110 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
std::optional<Clock::time_point> parse_imf_fixdate(std::string_view text) noexcept {
    static constexpr std::array<std::string_view, 7> day_names = {"Mon", "Tue", "Wed", "Thu",
                                                                  "Fri", "Sat", "Sun"};
    static constexpr std::array<std::string_view, 12> month_names = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (text.size() != 29 || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' ||
        text[16] != ' ' || text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT") {
        return std::nullopt;
    }
    if (std::find(day_names.begin(), day_names.end(), text.substr(0, 3)) == day_names.end()) {
        return std::nullopt;
    }
    const auto month = std::find(month_names.begin(), month_names.end(), text.substr(8, 3));
    const std::string_view day = text.substr(5, 2);
    const std::string_view year = text.substr(12, 4);
    const std::string_view hours = text.substr(17, 2);
    const std::string_view minutes = text.substr(20, 2);
    const std::string_view seconds = text.substr(23, 2);
    if (month == month_names.end() || !all_digits(day) || !all_digits(year) || !all_digits(hours) ||
        !all_digits(minutes) || !all_digits(seconds)) {
        return std::nullopt;
    }
    const std::chrono::year_month_day date{
        std::chrono::year(number(year)),
        std::chrono::month(static_cast<unsigned>(month - month_names.begin() + 1)),
        std::chrono::day(static_cast<unsigned>(number(day)))};
    // 60 is a leap second, which the system clock cannot represent.
    if (!date.ok() || number(hours) > 23 || number(minutes) > 59 || number(seconds) > 60) {
        return std::nullopt;
    }
    return Clock::time_point(std::chrono::sys_days(date)) + std::chrono::hours(number(hours)) +
           std::chrono::minutes(number(minutes)) + std::chrono::seconds(number(seconds));
}

bool contains_ignoring_case(std::string_view text, std::string_view needle) noexcept {
    const auto lower = [](char c) {
        return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    };
    return std::search(text.begin(), text.end(), needle.begin(), needle.end(),
                       [&](char a, char b) { return lower(a) == lower(b); }) != text.end();
}

}  // namespace

Decision classify_push(const upstream::Result& result, outbox::Clock::time_point now) {
    if (result.failure != upstream::Failure::none) {
        return from_failure(result);
    }
    const long status = result.response.status;
    if (status >= 200 && status < 300) {
        return answered(status, {}, {}, Verdict::delivered);
    }
    if (status == 408 || status == 429 || (status >= 500 && status < 600)) {
        Decision decision = answered(status, slug(ErrorClass::upstream_error),
                                     upstream_answered(status), Verdict::retry);
        if (status == 429 || status == 503) {
            if (const std::string* value = find_header(result.response.headers, "Retry-After")) {
                decision.retry_after = parse_retry_after(*value, now);
            }
        }
        return decision;
    }
    return answered(status, slug(ErrorClass::upstream_error), upstream_answered(status),
                    Verdict::dead);
}

Decision classify_trigger(const upstream::Result& result, outbox::Clock::time_point now) {
    if (result.failure == upstream::Failure::none) {
        const long status = result.response.status;
        if (status == 404) {
            return answered(status, "trigger-unavailable",
                            "the GRU has no such trigger for the demand in its current status",
                            Verdict::dead);
        }
        if (status == 403) {
            // w.c.s. refuses a trigger while it runs the demand's actions;
            // the same call succeeds once they are done.
            if (contains_ignoring_case(result.response.body, "currently processing")) {
                return answered(status, "gru-busy", "the GRU is processing the demand",
                                Verdict::retry);
            }
            return answered(status, "gru-refused", "the GRU answered 403", Verdict::dead);
        }
    }
    return classify_push(result, now);
}

Decision classify_demand(const upstream::Result& result, outbox::Clock::time_point now) {
    if (result.failure == upstream::Failure::none) {
        const long status = result.response.status;
        if (status == 404) {
            return answered(status, "formdef-unavailable",
                            "the GRU has no such form open to submissions", Verdict::dead);
        }
        // A refused signature, a form that rejects the data: the same demand
        // will be refused again.
        if (status >= 400 && status < 500 && status != 408 && status != 429) {
            return answered(status, "gru-refused", upstream_answered(status), Verdict::dead);
        }
    }
    return classify_push(result, now);
}

std::optional<milliseconds> parse_retry_after(std::string_view value,
                                              outbox::Clock::time_point now) {
    value = trim_ows(value);
    if (all_digits(value)) {
        // More digits than any sane delay: cap rather than overflow.
        if (value.size() > 9) {
            return longest_retry_after;
        }
        return std::min<milliseconds>(std::chrono::seconds(number(value)), longest_retry_after);
    }
    const auto date = parse_imf_fixdate(value);
    if (!date) {
        return std::nullopt;
    }
    if (*date <= now) {
        return milliseconds(0);
    }
    return std::min<milliseconds>(std::chrono::ceil<milliseconds>(*date - now),
                                  longest_retry_after);
}

milliseconds next_delay(const DeliveryPolicy& policy, unsigned attempts_done,
                        std::optional<milliseconds> retry_after, std::mt19937_64& random) {
    // The upstream knows when it will be back: asking earlier only earns
    // another 429 or 503. max_age still bounds the wait (see settle).
    if (retry_after) {
        return std::max(*retry_after, milliseconds(0));
    }
    const milliseconds ceiling = std::max(policy.max_backoff, milliseconds(0));
    // Doubling stops at the ceiling, so that many attempts never overflow.
    milliseconds cap = std::clamp(policy.initial_backoff, milliseconds(0), ceiling);
    for (unsigned n = 1; n < attempts_done && cap < ceiling; ++n) {
        cap = std::min(cap * 2, ceiling);
    }
    std::uniform_int_distribution<milliseconds::rep> jitter(0, cap.count());
    return milliseconds(jitter(random));
}

outbox::AttemptRecord settle(const Decision& decision, const DeliveryPolicy& policy,
                             unsigned attempts_done, outbox::Clock::time_point created,
                             outbox::Clock::time_point now, std::mt19937_64& random) {
    outbox::AttemptRecord record;
    record.verdict = decision.verdict;
    record.status = decision.status;
    record.error_class = decision.error_class;
    record.reason = decision.reason;
    if (decision.verdict != Verdict::retry) {
        return record;
    }
    if (attempts_done >= policy.max_attempts) {
        record.verdict = Verdict::dead;
        record.error_class = "max-attempts";
        record.reason = "gave up after " + std::to_string(attempts_done) +
                        " attempts; last: " + decision.reason;
        return record;
    }
    record.next_attempt = now + next_delay(policy, attempts_done, decision.retry_after, random);
    if (record.next_attempt > created + policy.max_age) {
        record.verdict = Verdict::dead;
        record.error_class = "max-age";
        record.reason = "undelivered within max_age; last: " + decision.reason;
        record.next_attempt = {};
    }
    return record;
}

}  // namespace relais::delivery
