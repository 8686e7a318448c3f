#pragma once
/// @file
/// One delivery attempt of one message, private to the delivery engine:
/// what to send, where, and what the answer means. The engine records the
/// outcome and logs it.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "core/runtime.hpp"
#include "outbox/outbox.hpp"

namespace relais::delivery {

/// What an attempt ends in.
struct AttemptOutcome {
    outbox::AttemptRecord record;
    std::chrono::microseconds upstream_elapsed{0};  ///< time spent on the upstream request
};

/// Hands a push to its connector's `deliver`; on success records the
/// correlation of the business reference with the push's GRU demand.
/// Cancellation propagates (as boost::system::system_error); outbox errors
/// are thrown.
boost::asio::awaitable<AttemptOutcome> attempt_push(outbox::Outbox& outbox,
                                                    const ConnectorEntry& entry,
                                                    const std::string& family,
                                                    const outbox::DueMessage& message,
                                                    std::mt19937_64& random);

/// POSTs a trigger to the GRU core, signed with `gru`; a delivered terminal
/// trigger drops its correlation. Errors as for attempt_push.
boost::asio::awaitable<AttemptOutcome> attempt_trigger(
    outbox::Outbox& outbox, const std::optional<GruSettings>& gru, const ConnectorEntry& entry,
    const std::string& family, const outbox::DueMessage& message, std::mt19937_64& random);

/// POSTs a new demand to the GRU core's submit API, signed with `gru`; a
/// delivered demand opened for a business reference records the
/// correlation of the reference with the demand URL the GRU answered
/// (`data.url`). Errors as for attempt_push.
boost::asio::awaitable<AttemptOutcome> attempt_demand(
    outbox::Outbox& outbox, const std::optional<GruSettings>& gru, const ConnectorEntry& entry,
    const std::string& family, const outbox::DueMessage& message, std::mt19937_64& random);

/// The business reference at `pointer` (a JSON Pointer) in the JSON
/// `answer`: a string, or an integer as its decimal text. nullopt when the
/// answer is not JSON or holds nothing usable there.
std::optional<std::string> reference_in(std::string_view answer, const std::string& pointer);

}  // namespace relais::delivery
