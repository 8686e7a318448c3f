#pragma once
/// @file
/// Parsing JSON that comes from outside relais (callers, upstreams).
///
/// The parse is iterative and the nesting is capped at max_json_depth:
/// later walks over a document (copying, writing, comparing) recurse once
/// per level, and a deep enough one would exhaust a thread's stack.

#include <rapidjson/fwd.h>

#include <string_view>

namespace relais {

/// Deepest nesting of arrays and objects accepted in any JSON relais parses.
inline constexpr unsigned max_json_depth = 128;

/// Parses `text` into `doc`. False on any error: not JSON, trailing text,
/// NUL bytes, not UTF-8, nesting deeper than max_json_depth.
bool parse_untrusted_json(std::string_view text, rapidjson::Document& doc);

/// Whether `text` is one JSON object under the same rules, checked without
/// building a document: nothing of `text` is copied, however large.
bool is_untrusted_json_object(std::string_view text);

}  // namespace relais
