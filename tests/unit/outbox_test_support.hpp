#pragma once
/// @file
/// What the outbox tests share: a private temporary directory, a random
/// key, and the raw bytes of every file under a directory.

#include <openssl/rand.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "outbox/crypto.hpp"

namespace relais::outbox::testing {

/// A fresh directory under the system's temporary directory, removed with
/// everything in it when the object goes.
class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "relais-outbox-XXXXXX");
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

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
