#pragma once
/// @file
/// What the outbox tests share: a private temporary directory, a random
/// key, and the raw bytes of every file under a directory.

#include <openssl/rand.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "../fixtures/config/config_test_support.hpp"
#include "outbox/crypto.hpp"

namespace relais::outbox::testing {

/// A fresh directory removed with everything in it when the object goes.
using TempDir = relais::test::TempDir;

inline Key random_key() {
    Key key;
    if (RAND_bytes(key.bytes.data(), static_cast<int>(key.bytes.size())) != 1) {
        throw std::runtime_error("RAND_bytes failed");
    }
    return key;
}

inline std::string read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Whether `bytes` occur in any file under `directory`.
inline bool any_file_contains(const std::filesystem::path& directory, const std::string& bytes) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(directory)) {
        if (entry.is_regular_file() && read_file(entry.path()).find(bytes) != std::string::npos) {
            return true;
        }
    }
    return false;
}

}  // namespace relais::outbox::testing
