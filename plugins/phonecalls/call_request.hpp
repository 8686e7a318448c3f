#pragma once
/// @file
/// Checks of what the phone system and the agents' screens send, before
/// anything is stored: numbers, `limit` and the extra `data` of a call
/// (query parameters and body).
/// Refusals name the parameter and never quote its value (a number is
/// personal data, and garbage may be anything).

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "core/error_class.hpp"
#include "core/http_types.hpp"

namespace relais::phonecalls {

/// Longest number accepted, separators included (E.164 has 15 digits;
/// room is left for prefixes, extensions and formatting).
inline constexpr std::size_t max_number_length = 32;
/// Largest `data` object accepted: the body as sent, and the call's data
/// once merged and serialised.
inline constexpr std::size_t max_data_bytes = 4096;
/// Ended calls listed when `limit` is not given, and the most it may ask.
inline constexpr std::size_t default_limit = 20;
inline constexpr std::size_t max_limit = 100;

/// Why a request is refused: the error class and a description for humans.
struct Refusal {
    ErrorClass error;
    std::string description;
};

/// A value or the reason it was refused.
template <typename T>
using Checked = std::variant<T, Refusal>;

/// The two ends of a call.
struct Parties {
    std::string caller;
    std::string callee;
};

/// Whether `text` looks like a phone number or an extension: 1 to
/// `max_number_length` characters among digits, `+ * #` and the separators
/// space `. - ( )`, with at least one digit, `*` or `#`.
bool is_phone_number(std::string_view text) noexcept;

/// `caller` and `callee`, both required.
Checked<Parties> read_parties(const QueryParams& query);

/// `callee`, required.
Checked<std::string> read_callee(const QueryParams& query);

/// `limit`, optional: an integer from 0 to `max_limit`.
Checked<std::size_t> read_limit(const QueryParams& query);

/// What `calls` and `calls/stream` list: the calls of `callee`, at most
/// `limit` ended ones.
struct Listing {
    std::string callee;
    std::size_t limit = 0;
};

/// `callee` (required) and `limit` (optional).
Checked<Listing> read_listing(const QueryParams& query);

/// Bounds of the extra query parameters of a call-start, kept as the
/// call's `data` as Passerelle keeps them: how many, the length of a name
/// (letters, digits, `_ . -`) and the bytes of a value.
inline constexpr std::size_t max_extra_parameters = 20;
inline constexpr std::size_t max_extra_name_length = 64;
inline constexpr std::size_t max_extra_value_bytes = 256;

/// The extra data of a call-start, serialised again on one line (fit for an
/// event stream, whatever the sender wrote): the query parameters other
/// than `caller` and `callee`, as strings, merged with the JSON object of
/// `body` (an empty body is an empty object; the body wins when both give a
/// name). At most `max_data_bytes` in all.
Checked<std::string> read_data(const QueryParams& query, std::string_view body);

}  // namespace relais::phonecalls
