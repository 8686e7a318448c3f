#pragma once
/// @file
/// Durations as written in YAML: an integer followed by a unit, `ms`, `s`,
/// `m` or `h` ("250ms", "30s", "2m", "72h").

#include <chrono>
#include <optional>
#include <string_view>

namespace relais {

/// The JSON Schema pattern matching what parse_duration accepts.
inline constexpr std::string_view duration_pattern = "^[0-9]{1,9}(ms|s|m|h)$";

/// Parses "30s" into milliseconds; nullopt if malformed.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) noexcept;

}  // namespace relais
