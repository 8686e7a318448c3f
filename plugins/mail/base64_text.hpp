#pragma once
/// @file
/// Checking a base64 text without decoding it: a scanned document travels
/// from the GEC to w.c.s. in base64 and is never decoded on the way, so
/// relais only needs to know that the text is base64, how large it is
/// decoded, and how its first bytes read.

#include <cstddef>
#include <optional>
#include <string_view>

namespace relais::mail {

/// The decoded size of `text` if it is strict base64 (RFC 4648, section 4):
/// the standard alphabet, '=' padding to a multiple of 4 characters, no
/// whitespace or line breaks, and zero bits where the padding leaves some
/// unused (the canonical encoding). nullopt otherwise. Reads every
/// character once and decodes none.
std::optional<std::size_t> strict_base64_size(std::string_view text) noexcept;

/// Whether `text`, strict base64, decodes to bytes starting with `prefix`.
/// Decodes only the characters `prefix` needs.
bool base64_starts_with(std::string_view text, std::string_view prefix) noexcept;

}  // namespace relais::mail
