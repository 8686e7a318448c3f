#pragma once
/// @file
/// The text encodings credentials travel in: URL query encoding (as Python's
/// urllib.parse produces it, since w.c.s. signs what urllib wrote) and
/// base64.

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace relais::auth {

/// Appends `text` encoded like Python's `urllib.parse.quote_plus`: letters,
/// digits and `_.-~` are kept, a space becomes `+`, any other byte `%XX`.
void append_form_encoded(std::string& out, std::string_view text);

/// Appends `text` encoded like Python's `urllib.parse.quote` (its default
/// `safe='/'`): as above, but `/` is kept and a space becomes `%20`.
void append_quoted(std::string& out, std::string_view text);

/// Decodes a query name or value: `%XX` escapes, and `+` as a space when
/// `plus_as_space`. nullopt on a malformed escape.
std::optional<std::string> url_decode(std::string_view text, bool plus_as_space);

/// Standard base64 with padding.
std::string base64_encode(std::span<const unsigned char> bytes);

/// Strict standard base64 (padding required, no whitespace); nullopt if
/// `text` is not valid base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace relais::auth
