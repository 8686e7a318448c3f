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

}  // namespace relais
