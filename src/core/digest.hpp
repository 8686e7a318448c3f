#pragma once
/// @file
/// SHA-256, for the places that keep a digest instead of a value (nonces,
/// API keys, cache keys, idempotency keys).

#include <array>
#include <string_view>

namespace relais {

using Sha256 = std::array<unsigned char, 32>;

/// SHA-256 of `text`. Throws std::runtime_error if OpenSSL fails.
Sha256 sha256(std::string_view text);

}  // namespace relais
