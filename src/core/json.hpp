#pragma once
/// @file
/// Parsing JSON that comes from outside relais (callers, upstreams).

#include <rapidjson/fwd.h>

#include <string_view>

namespace relais {

/// Parses `text` into `doc` iteratively, so that no nesting depth can
/// exhaust the stack, and checks that it is UTF-8. False on any error,
/// trailing text and NUL bytes included.
bool parse_untrusted_json(std::string_view text, rapidjson::Document& doc);

/// Whether `text` is one JSON object under the same rules, checked without
/// building a document: nothing of `text` is copied, however large.
bool is_untrusted_json_object(std::string_view text);

}  // namespace relais
