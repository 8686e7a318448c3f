#pragma once
/// @file
/// The secret of the ids of base-adresse connectors without `id_key`: 32
/// random bytes in `<data_dir>/base-adresse-id.key` (base64, mode 0600),
/// created on first use, so that ids stay valid across restarts and
/// reloads and cannot be read without the file.

#include <filesystem>
#include <string>

namespace relais::base_adresse {

inline constexpr const char* id_key_file_name = "base-adresse-id.key";

/// The secret kept in `<data_dir>/base-adresse-id.key`, created (with the
/// data directory, 0700) when missing. Throws std::runtime_error naming the
/// file, never its content: unreadable, open to other users, not a key.
std::string load_id_key_file(const std::filesystem::path& data_dir);

/// What `relais validate` checks without writing anything: the secret of
/// `<data_dir>/base-adresse-id.key` when the file exists (with the same
/// checks and errors as load_id_key_file), else a random one that serves
/// nothing, since the daemon creates the file when it starts.
std::string check_id_key_file(const std::filesystem::path& data_dir);

}  // namespace relais::base_adresse
