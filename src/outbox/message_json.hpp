#pragma once
/// @file
/// The one JSON description of a message's metadata, shown to callers
/// (GET …/deliveries/{id}) and operators (`relais outbox show`). It is built
/// from MessageInfo, which holds no payload: nothing personal can leak.

#include <string>

#include "outbox/outbox.hpp"

namespace relais::outbox {

enum class Audience : unsigned char {
    caller,     ///< the client that pushed: where its delivery stands
    operator_,  ///< adds the family and what is left of the payload
};

/// A JSON object: tracking_id, kind, connector, endpoint, state, attempts,
/// last_status, error_class, reason, created, updated, next_attempt (while
/// pending), payload_erase_at (dead letters that still have their payload);
/// for operators also family, request_id and has_payload. Times are UTC, `YYYY-MM-DDTHH:MM:SSZ`.
std::string to_json(const MessageInfo& info, Audience audience);

}  // namespace relais::outbox
