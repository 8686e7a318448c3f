#pragma once
/// @file
/// The GRU's `closed` call (its workflow ends a demand opened for a mail)
/// turned into the notification to deliver to the GEC: notify's templates
/// filled with the mail's reference and the call's JSON body, as kind rest
/// fills an async endpoint's request, and stored the same way.

#include <string_view>
#include <variant>

#include "mail/mail_spec.hpp"
#include "rest/parameters.hpp"
#include "rest/push_message.hpp"
#include "rest/upstream_spec.hpp"

namespace relais::mail {

/// Checks the body of a `closed` call and builds the notification: method,
/// target (notify.path, relative to upstream.base_url), notify's headers
/// (with Content-Type: application/json for a body, unless a header sets
/// it) and body. Nothing of the upstream's configuration (address,
/// credentials, static headers) is in it. Refusals: invalid_json (not a
/// JSON object), missing_parameter (no `reference`), invalid_parameter (a
/// `reference` that is not a string of 1 to 256 bytes without control
/// characters, or that makes a `.`/`..` path segment), and kind rest's
/// template refusals (invalid_body for a `{body:…}` value).
std::variant<rest::StoredPush, rest::CallError> closing_notice(const rest::UpstreamSpec& upstream,
                                                               const NotifySpec& notify,
                                                               std::string_view body);

}  // namespace relais::mail
