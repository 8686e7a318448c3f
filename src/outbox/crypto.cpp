#include "outbox/crypto.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "core/url_encoding.hpp"
#include "outbox/files.hpp"
#include "outbox/outbox.hpp"

namespace relais::outbox {

namespace {

constexpr std::size_t nonce_size = 12;
constexpr std::size_t tag_size = 16;
constexpr std::size_t key_size = std::tuple_size_v<decltype(Key::bytes)>;
/// Base64 of 32 bytes is 44 characters; a file much larger than that is
/// not a key file.
constexpr std::size_t key_file_limit = 256;

/// Text that held key material: wiped when it goes.
struct SecretText {
    std::string text;
    SecretText() = default;
    explicit SecretText(std::string t) : text(std::move(t)) {}
    SecretText(const SecretText&) = delete;
    SecretText& operator=(const SecretText&) = delete;
    ~SecretText() { OPENSSL_cleanse(text.data(), text.size()); }
};

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

struct CipherContext {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    CipherContext() = default;
    CipherContext(const CipherContext&) = delete;
    CipherContext& operator=(const CipherContext&) = delete;
    ~CipherContext() { EVP_CIPHER_CTX_free(ctx); }
};

std::runtime_error file_error(const std::string& what, const std::filesystem::path& file) {
    return std::runtime_error(what + " " + file.string() + ": " + std::strerror(errno));
}

/// The key that `base64` encodes; `source` names it in errors.
Key decode_key(std::string_view base64, const std::string& source) {
    const SecretText decoded(base64_decode(base64).value_or(std::string{}));
    if (decoded.text.empty() && !base64.empty()) {
        throw std::runtime_error(source + " is not valid base64");
    }
    if (decoded.text.size() != key_size) {
        throw std::runtime_error(source + " must be the base64 of 32 bytes, not of " +
                                 std::to_string(decoded.text.size()));
    }
    Key key;
    std::memcpy(key.bytes.data(), decoded.text.data(), key_size);
    return key;
}

Key read_key_file(const std::filesystem::path& file) {
    const FileDescriptor in(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (in.fd < 0) {
        throw file_error("cannot open key file", file);
    }
    struct stat status {};
    if (::fstat(in.fd, &status) != 0) {
        throw file_error("cannot read key file", file);
    }
    if (!S_ISREG(status.st_mode)) {
        throw std::runtime_error("key file " + file.string() + " is not a regular file");
    }
    if ((status.st_mode & 077) != 0) {
        throw std::runtime_error("key file " + file.string() +
                                 " is open to other users: chmod 600 it (and consider the key "
                                 "leaked: messages sealed with it can be read)");
    }
    SecretText content;
    content.text.resize(key_file_limit + 1);
    std::size_t size = 0;
    while (size < content.text.size()) {
        const auto n = ::read(in.fd, content.text.data() + size, content.text.size() - size);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw file_error("cannot read key file", file);
        }
        if (n == 0) {
            break;
        }
        size += static_cast<std::size_t>(n);
    }
    if (size > key_file_limit) {
        throw std::runtime_error("key file " + file.string() + " is too large to be a key");
    }
    std::string_view text(content.text.data(), size);
    if (text.ends_with('\n')) {
        text.remove_suffix(1);
    }
    return decode_key(text, "key file " + file.string());
}

void write_all(int fd, std::string_view bytes, const std::filesystem::path& file) {
    while (!bytes.empty()) {
        const auto n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw file_error("cannot write key file", file);
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

/// Writes a new random key to `file` unless another process did first; the
/// key in `file` afterwards either way. The key is written whole to a
/// temporary file and linked into place, so that a reader never sees half a
/// key and two first starts agree on one.
Key create_key_file(const std::filesystem::path& file) {
    std::array<unsigned char, 8> suffix{};
    Key key;
    if (RAND_bytes(suffix.data(), static_cast<int>(suffix.size())) != 1 ||
        RAND_bytes(key.bytes.data(), static_cast<int>(key.bytes.size())) != 1) {
        throw std::runtime_error("no random bytes for the outbox key");
    }
    const SecretText text(base64_encode(key.bytes) + "\n");
    const std::filesystem::path temporary =
        file.parent_path() / ("." + file.filename().string() + "." + hex_encode(suffix));
    {
        const FileDescriptor out(
            ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (out.fd < 0) {
            throw file_error("cannot create key file", temporary);
        }
        try {
            write_all(out.fd, text.text, temporary);
            if (::fsync(out.fd) != 0) {
                throw file_error("cannot write key file", temporary);
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
        OPENSSL_cleanse(key.bytes.data(), key.bytes.size());
        if (link_errno == EEXIST) {
            return read_key_file(file);
        }
        errno = link_errno;
        throw file_error("cannot create key file", file);
    }
    const FileDescriptor directory(
        ::open(file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (directory.fd >= 0) {
        ::fsync(directory.fd);
    }
    return key;
}

}  // namespace

Key load_key(const std::optional<std::string>& configured, const std::filesystem::path& data_dir) {
    if (configured) {
        return decode_key(*configured, "outbox.key");
    }
    create_private_directory(data_dir);
    const auto file = data_dir / "outbox.key";
    struct stat status {};
    if (::lstat(file.c_str(), &status) == 0) {
        return read_key_file(file);
    }
    if (errno != ENOENT) {
        throw file_error("cannot read key file", file);
    }
    // A new key cannot open what the lost one sealed: starting would turn
    // every message waiting for delivery into a dead letter.
    if (const auto store = directory(data_dir); !families_in(store).empty()) {
        throw std::runtime_error("the outbox key file " + file.string() +
                                 " is missing but " + store.string() +
                                 " holds messages sealed with a key: restore the key file (or "
                                 "set outbox.key), or move the outbox databases away");
    }
    return create_key_file(file);
}

std::string seal(const Key& key, std::string_view plaintext, std::string_view associated) {
    std::string sealed(nonce_size + plaintext.size() + tag_size, '\0');
    auto* nonce = reinterpret_cast<unsigned char*>(sealed.data());
    auto* body = nonce + nonce_size;
    if (RAND_bytes(nonce, static_cast<int>(nonce_size)) != 1) {
        throw std::runtime_error("no random bytes for an outbox nonce");
    }
    const CipherContext cipher;
    int length = 0;
    int final_length = 0;
    const bool sealed_ok =
        cipher.ctx != nullptr &&
        EVP_EncryptInit_ex(cipher.ctx, EVP_aes_256_gcm(), nullptr, key.bytes.data(), nonce) == 1 &&
        EVP_EncryptUpdate(cipher.ctx, nullptr, &length,
                          reinterpret_cast<const unsigned char*>(associated.data()),
                          static_cast<int>(associated.size())) == 1 &&
        EVP_EncryptUpdate(cipher.ctx, body, &length,
                          reinterpret_cast<const unsigned char*>(plaintext.data()),
                          static_cast<int>(plaintext.size())) == 1 &&
        EVP_EncryptFinal_ex(cipher.ctx, body + length, &final_length) == 1 &&
        EVP_CIPHER_CTX_ctrl(cipher.ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_size),
                            body + plaintext.size()) == 1;
    if (!sealed_ok) {
        throw std::runtime_error("AES-256-GCM encryption failed");
    }
    return sealed;
}

std::optional<std::string> open(const Key& key, std::string_view sealed,
                                std::string_view associated) {
    if (sealed.size() < nonce_size + tag_size) {
        return std::nullopt;
    }
    const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
    const auto* body = nonce + nonce_size;
    const std::size_t body_size = sealed.size() - nonce_size - tag_size;
    // The tag is const in the caller's buffer; OpenSSL's ctrl takes void*.
    std::array<unsigned char, tag_size> tag{};
    std::memcpy(tag.data(), body + body_size, tag_size);
    std::string plaintext(body_size, '\0');
    auto* out = reinterpret_cast<unsigned char*>(plaintext.data());
    const CipherContext cipher;
    int length = 0;
    int final_length = 0;
    const bool opened =
        cipher.ctx != nullptr &&
        EVP_DecryptInit_ex(cipher.ctx, EVP_aes_256_gcm(), nullptr, key.bytes.data(), nonce) == 1 &&
        EVP_DecryptUpdate(cipher.ctx, nullptr, &length,
                          reinterpret_cast<const unsigned char*>(associated.data()),
                          static_cast<int>(associated.size())) == 1 &&
        EVP_DecryptUpdate(cipher.ctx, out, &length, body, static_cast<int>(body_size)) == 1 &&
        EVP_CIPHER_CTX_ctrl(cipher.ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag_size),
                            tag.data()) == 1 &&
        EVP_DecryptFinal_ex(cipher.ctx, out + length, &final_length) == 1;
    if (!opened) {
        OPENSSL_cleanse(plaintext.data(), plaintext.size());
        return std::nullopt;
    }
    return plaintext;
}

}  // namespace relais::outbox
