#pragma once
/// @file
/// Parsing JSON that comes from outside relais (callers, upstreams).
///
/// The parse is iterative and the nesting is capped at max_json_depth:
/// later walks over a document (copying, writing, comparing) recurse once
/// per level, and a deep enough one would exhaust a thread's stack.
///
/// Numbers are kept exact or refused: an integer is read as a 64-bit one,
/// a decimal as the nearest double, and a number neither holds (an integer
/// outside −2⁶³ … 2⁶⁴−1, or `1e400`) makes the text refused rather than
/// rounded, since relais passes values on and must not change them.

#include <rapidjson/fwd.h>

#include <string>
#include <string_view>

namespace relais {

/// Deepest nesting of arrays and objects accepted in any JSON relais parses.
inline constexpr unsigned max_json_depth = 128;

/// Why JSON from outside was refused.
enum class JsonFault {
    none,
    not_json,        ///< not JSON, trailing text, NUL bytes, not UTF-8
    too_deep,        ///< arrays and objects nested deeper than max_json_depth
    inexact_number,  ///< a number no 64-bit integer or double holds exactly enough
    not_object,      ///< (parse_untrusted_object) not JSON, or JSON but not an object
};

/// The outcome of a parse: true when the text was read.
struct [[nodiscard]] JsonParse {
    JsonFault fault = JsonFault::none;

    explicit operator bool() const noexcept { return fault == JsonFault::none; }
};

/// What a parse does with an integer beyond 64 bits.
enum class InexactNumbers {
    refuse,   ///< the text is refused (inexact_number): for JSON relais passes on
    as_text,  ///< it becomes a string of its digits: for JSON relais only reads
              ///< values from (an answer's reference), where an unrelated member
              ///< must not make the whole answer unreadable
};

/// Parses `text` into `doc`. On any fault `doc` is null. A number too large
/// for a double (`1e400`, an integer of over 308 digits) is refused
/// whatever `inexact` says.
JsonParse parse_untrusted_json(std::string_view text, rapidjson::Document& doc,
                               InexactNumbers inexact = InexactNumbers::refuse);

/// parse_untrusted_json for a text that must be one JSON object: not_object
/// also stands for text that is not JSON at all.
JsonParse parse_untrusted_object(std::string_view text, rapidjson::Document& doc,
                                 InexactNumbers inexact = InexactNumbers::refuse);

/// Whether `text` is one JSON object under the same rules, checked without
/// building a document: nothing of `text` is copied, however large.
bool is_untrusted_json_object(std::string_view text);

/// The fault as an error message about `subject` ("the body"): "the body
/// is not valid JSON", "the body must be a JSON object", "the body nests
/// deeper than 128 levels"… Names no value of the text.
std::string describe(JsonFault fault, std::string_view subject);

}  // namespace relais
