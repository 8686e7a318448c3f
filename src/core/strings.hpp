#pragma once
/// @file
/// Small text helpers shared by the HTTP code.

#include <algorithm>
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

/// True for an ASCII control character (below 0x20, or DEL).
constexpr bool is_control_char(char c) noexcept {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7F;
}

/// True when `text` holds an ASCII control character: it would break a
/// header, a URL or a log line.
constexpr bool has_control_chars(std::string_view text) noexcept {
    return std::ranges::any_of(text, is_control_char);
}

/// True when `name` is an HTTP field name (RFC 9110 token).
constexpr bool is_header_name(std::string_view name) noexcept {
    constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
    return !name.empty() && std::ranges::all_of(name, [extra](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               extra.find(c) != std::string_view::npos;
    });
}

}  // namespace relais
