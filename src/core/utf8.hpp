#pragma once
/// @file
/// Checking that text is UTF-8, as everything relais passes on as JSON or
/// XML must be.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relais {

/// One character of UTF-8 text: its code point and how many bytes it takes.
struct CodePoint {
    std::uint32_t value = 0;
    std::size_t bytes = 0;
};

/// The character that starts at `text[at]` (`at` < text.size()), or
/// nullopt where the bytes are not UTF-8 (a cut sequence, an overlong form,
/// a surrogate, beyond U+10FFFF).
std::optional<CodePoint> utf8_at(std::string_view text, std::size_t at) noexcept;

/// Whether `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no
/// surrogates, nothing above U+10FFFF). Runs of ASCII, most of a JSON
/// answer, are checked eight bytes at a time: RapidJSON's own validation
/// (kParseValidateEncodingFlag) looks at every byte of every string and was
/// the largest single cost of parsing an upstream answer.
bool is_valid_utf8(std::string_view text) noexcept;

/// As is_valid_utf8, and every character beyond ASCII satisfies
/// `allowed_beyond_ascii` (ASCII is the caller's to check: runs of it are
/// skipped unread).
bool is_valid_utf8(std::string_view text,
                   bool (*allowed_beyond_ascii)(std::uint32_t) noexcept) noexcept;

/// At most `limit` bytes of `text`, without cutting a UTF-8 sequence in
/// two, followed by "…" when something was cut; `unreadable` instead when
/// what is kept is not UTF-8. For quoting an upstream's text in an error.
std::string utf8_excerpt(std::string_view text, std::size_t limit, std::string_view unreadable);

}  // namespace relais
