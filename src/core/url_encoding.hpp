#pragma once
/// @file
/// The text encodings of URLs and credentials: percent-encoding (as
/// Python's urllib.parse produces it, since w.c.s. signs what urllib wrote;
/// also what upstream requests are built with) and base64.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace relais {

/// RFC 3986 unreserved characters: `A-Z a-z 0-9 - . _ ~`.
constexpr bool is_unreserved(unsigned char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-' || c == '~';
}

/// Whether `text` is made only of the characters RFC 3986 allows in a path
/// followed by a query (pchar, `/`, `?`: the first `?` starts the query), or
/// in a fragment, with every `%` starting a two-digit hexadecimal escape.
bool valid_uri_chars(std::string_view text) noexcept;

/// A URL's port written in decimal digits, from 1 to 65535; nullopt for
/// anything else (an empty text included).
std::optional<std::uint16_t> parse_port(std::string_view digits) noexcept;

/// Appends `text` percent-encoded as one path segment: every byte outside
/// the unreserved set becomes %XX (so `/`, `?`, `#`, `%` are inert).
void append_path_segment(std::string& out, std::string_view text);

/// Appends `text` encoded like Python's `urllib.parse.quote_plus`: letters,
/// digits and `_.-~` are kept, a space becomes `+`, any other byte `%XX`.
void append_form_encoded(std::string& out, std::string_view text);

/// Appends `text` encoded like Python's `urllib.parse.quote` (its default
/// `safe='/'`): as above, but `/` is kept and a space becomes `%20`.
void append_quoted(std::string& out, std::string_view text);

/// Decodes a query name or value: `%XX` escapes, and `+` as a space when
/// `plus_as_space`. nullopt on a malformed escape.
std::optional<std::string> url_decode(std::string_view text, bool plus_as_space);

/// Lower-case hexadecimal, two digits per byte.
std::string hex_encode(std::span<const unsigned char> bytes);

/// Standard base64 with padding.
std::string base64_encode(std::span<const unsigned char> bytes);

/// Strict standard base64 (padding required, no whitespace); nullopt if
/// `text` is not valid base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace relais
