#pragma once
/// @file
/// Encryption at rest of outbox payloads: AES-256-GCM (OpenSSL), a fresh
/// random 96-bit nonce per message, the message's identity as associated
/// data so that a sealed payload cannot be moved to another row.

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace relais::outbox {

/// A 256-bit key. Never logged, never part of an error message.
struct Key {
    std::array<unsigned char, 32> bytes{};
};

/// The outbox key: `configured` when set (base64 of exactly 32 bytes, as
/// `outbox.key` gives it after `${env:…}`/`${file:…}` substitution), else
/// the file `<data_dir>/outbox.key`, created with 32 random bytes (base64,
/// mode 0600) on first start. Throws std::runtime_error naming the file or
/// the setting, never the key: bad base64, wrong length, unreadable file,
/// a key file readable by others, a missing key file while outbox
/// databases exist (a new key could not open their messages).
Key load_key(const std::optional<std::string>& configured, const std::filesystem::path& data_dir);

/// What `relais validate` checks: throws as load_key would, but writes
/// nothing (a missing key file is fine while no outbox database exists).
void check_key(const std::optional<std::string>& configured, const std::filesystem::path& data_dir);

/// nonce (12 bytes) | ciphertext | tag (16 bytes).
std::string seal(const Key& key, std::string_view plaintext, std::string_view associated);

/// The plaintext, or nullopt when `sealed` was not sealed by `key` with
/// `associated` (tampered, truncated, other key).
std::optional<std::string> open(const Key& key, std::string_view sealed,
                                std::string_view associated);

}  // namespace relais::outbox
