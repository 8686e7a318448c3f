#pragma once
/// @file
/// Keys that relais generates itself and keeps in its data directory (the
/// outbox key, the key of base-adresse ids): random bytes, base64 in a file
/// of mode 0600. One implementation, so that every key file gets the same
/// checks and the same safe creation.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace relais {

/// Text that holds key material: wiped when it goes.
struct SecretText {
    std::string text;
    SecretText() = default;
    explicit SecretText(std::string t) noexcept : text(std::move(t)) {}
    SecretText(const SecretText&) = delete;
    SecretText& operator=(const SecretText&) = delete;
    ~SecretText();
};

/// The raw bytes of the key in `file`, which must be a regular file (a link
/// is not followed) that only relais's user can read, holding the base64 of
/// exactly `size` bytes. `what` names the key in errors ("outbox key").
/// Throws std::runtime_error naming the file, never its content. The caller
/// wipes the returned bytes when done (OPENSSL_cleanse).
std::string read_key_file(const std::filesystem::path& file, std::size_t size,
                          std::string_view what);

/// `read_key_file` when `file` exists, nullopt when it does not: what
/// `relais validate` checks, writing nothing.
std::optional<std::string> read_key_file_if_present(const std::filesystem::path& file,
                                                    std::size_t size, std::string_view what);

/// `read_key_file` when `file` exists; otherwise `size` new random bytes,
/// written whole to a temporary file and linked into place (O_EXCL), so that
/// no reader sees half a key and two processes starting at once end up with
/// the same one. The directory must exist.
std::string load_or_create_key_file(const std::filesystem::path& file, std::size_t size,
                                    std::string_view what);

}  // namespace relais
