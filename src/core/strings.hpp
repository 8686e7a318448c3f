#pragma once
/// @file
/// Small text helpers shared by the HTTP code.

#include <string_view>

namespace relais {

/// `text` without leading and trailing spaces and tabs (HTTP's optional
/// whitespace around header values and parameters).
constexpr std::string_view trim_ows(std::string_view text) noexcept {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

}  // namespace relais
