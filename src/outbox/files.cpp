#include "outbox/files.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

namespace relais::outbox {

void create_private_directory(const std::filesystem::path& directory) {
    std::error_code error;
    if (std::filesystem::is_directory(directory, error)) {
        return;
    }
    if (directory.has_parent_path()) {
        std::filesystem::create_directories(directory.parent_path(), error);
        if (error) {
            throw std::runtime_error("cannot create directory " + directory.parent_path().string() +
                                     ": " + error.message());
        }
    }
    // mkdir with the final mode, rather than chmod afterwards, so that the
    // directory is never open to others, even for a moment.
    if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) {
        throw std::runtime_error("cannot create directory " + directory.string() + ": " +
                                 std::strerror(errno));
    }
    if (!std::filesystem::is_directory(directory, error)) {
        throw std::runtime_error(directory.string() + " is not a directory");
    }
}

}  // namespace relais::outbox
