#include "core/key_file.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <span>
#include <stdexcept>

#include "core/url_encoding.hpp"

namespace relais {

SecretText::~SecretText() {
    OPENSSL_cleanse(text.data(), text.size());
}

namespace {

struct FileDescriptor {
    int fd = -1;
    explicit FileDescriptor(int f) : fd(f) {}
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

/// `message` and the reason errno gives.
std::runtime_error system_error(const std::string& message) {
    return std::runtime_error(message + ": " + std::strerror(errno));
}

std::string label(std::string_view what, const std::filesystem::path& file) {
    return std::string(what) + " file " + file.string();
}

void write_all(int fd, std::string_view bytes, const std::filesystem::path& file,
               std::string_view what) {
    while (!bytes.empty()) {
        const auto n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw system_error("cannot write " + label(what, file));
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

}  // namespace

std::string read_key_file(const std::filesystem::path& file, std::size_t size,
                          std::string_view what) {
    const FileDescriptor in(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (in.fd < 0) {
        throw system_error("cannot open " + label(what, file));
    }
    struct stat status {};
    if (::fstat(in.fd, &status) != 0) {
        throw system_error("cannot read " + label(what, file));
    }
    if (!S_ISREG(status.st_mode)) {
        throw std::runtime_error(label(what, file) + " is not a regular file");
    }
    if ((status.st_mode & 077) != 0) {
        throw std::runtime_error(label(what, file) +
                                 " is open to other users: chmod 600 it (and consider the key "
                                 "leaked: what it protects can be read)");
    }
    // The base64 of the key and a line break; a larger file is not a key file.
    const std::size_t limit = 4 * (size / 3 + 1) + 2;
    SecretText content;
    content.text.resize(limit + 1);
    std::size_t length = 0;
    while (length < content.text.size()) {
        const auto n = ::read(in.fd, content.text.data() + length, content.text.size() - length);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw system_error("cannot read " + label(what, file));
        }
        if (n == 0) {
            break;
        }
        length += static_cast<std::size_t>(n);
    }
    std::string_view text(content.text.data(), length);
    if (text.ends_with('\n')) {
        text.remove_suffix(1);
    }
    SecretText decoded(length > limit ? std::string() : base64_decode(text).value_or(""));
    if (decoded.text.size() != size) {
        throw std::runtime_error(label(what, file) + " must hold the base64 of " +
                                 std::to_string(size) + " bytes");
    }
    return std::move(decoded.text);
}

std::optional<std::string> read_key_file_if_present(const std::filesystem::path& file,
                                                    std::size_t size, std::string_view what) {
    struct stat status {};
    if (::lstat(file.c_str(), &status) == 0) {
        return read_key_file(file, size, what);
    }
    if (errno != ENOENT) {
        throw system_error("cannot read " + label(what, file));
    }
    return std::nullopt;
}

std::string load_or_create_key_file(const std::filesystem::path& file, std::size_t size,
                                    std::string_view what) {
    if (auto key = read_key_file_if_present(file, size, what)) {
        return std::move(*key);
    }
    std::array<unsigned char, 8> suffix{};
    SecretText key(std::string(size, '\0'));
    if (RAND_bytes(suffix.data(), static_cast<int>(suffix.size())) != 1 ||
        RAND_bytes(reinterpret_cast<unsigned char*>(key.text.data()), static_cast<int>(size)) !=
            1) {
        throw std::runtime_error("no random bytes for the " + std::string(what));
    }
    const SecretText text(
        base64_encode(std::span(reinterpret_cast<const unsigned char*>(key.text.data()), size)) +
        "\n");
    const std::filesystem::path temporary =
        file.parent_path() / ("." + file.filename().string() + "." + hex_encode(suffix));
    {
        const FileDescriptor out(
            ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (out.fd < 0) {
            throw system_error("cannot create " + label(what, temporary));
        }
        try {
            write_all(out.fd, text.text, temporary, what);
            if (::fsync(out.fd) != 0) {
                throw system_error("cannot write " + label(what, temporary));
            }
        } catch (...) {
            ::unlink(temporary.c_str());
            throw;
        }
    }
    const int linked = ::link(temporary.c_str(), file.c_str());
    const int link_errno = errno;
    ::unlink(temporary.c_str());
    if (linked != 0) {
        if (link_errno == EEXIST) {
            return read_key_file(file, size, what);
        }
        errno = link_errno;
        throw system_error("cannot create " + label(what, file));
    }
    const FileDescriptor directory(
        ::open(file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (directory.fd >= 0) {
        ::fsync(directory.fd);
    }
    return std::move(key.text);
}

}  // namespace relais
