#pragma once
/// @file
/// Directories and files of the outbox that only relais's user may read.

#include <filesystem>

namespace relais::outbox {

/// Creates `directory` with mode 0700 (its missing parents with the default
/// mode) unless it exists. Throws std::runtime_error naming it.
void create_private_directory(const std::filesystem::path& directory);

}  // namespace relais::outbox
