#include "outbox/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>

#include "core/key_file.hpp"
#include "core/url_encoding.hpp"
#include "outbox/files.hpp"
#include "outbox/outbox.hpp"

namespace relais::outbox {

namespace {

constexpr std::size_t nonce_size = 12;
constexpr std::size_t tag_size = 16;
constexpr std::size_t key_size = std::tuple_size_v<decltype(Key::bytes)>;

struct CipherContext {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    CipherContext() = default;
    CipherContext(const CipherContext&) = delete;
    CipherContext& operator=(const CipherContext&) = delete;
    ~CipherContext() { EVP_CIPHER_CTX_free(ctx); }
};

/// The key bytes in `raw` (key_size of them), which is wiped.
Key key_from(std::string raw) {
    const SecretText bytes(std::move(raw));
    Key key;
    std::memcpy(key.bytes.data(), bytes.text.data(), key_size);
    return key;
}

/// The key that `base64` encodes; `source` names it in errors.
Key decode_key(std::string_view base64, const std::string& source) {
    SecretText decoded(base64_decode(base64).value_or(std::string{}));
    if (decoded.text.empty() && !base64.empty()) {
        throw std::runtime_error(source + " is not valid base64");
    }
    if (decoded.text.size() != key_size) {
        throw std::runtime_error(source + " must be the base64 of 32 bytes, not of " +
                                 std::to_string(decoded.text.size()));
    }
    return key_from(std::move(decoded.text));
}

/// The outbox key as load_key finds it; without `create`, nothing is
/// written and a missing key file gives nullopt.
std::optional<Key> find_key(const std::optional<std::string>& configured,
                            const std::filesystem::path& data_dir, bool create) {
    if (configured) {
        return decode_key(*configured, "outbox.key");
    }
    if (create) {
        create_private_directory(data_dir);
    }
    const auto file = data_dir / "outbox.key";
    struct stat status {};
    const bool missing = ::lstat(file.c_str(), &status) != 0 && errno == ENOENT;
    // A new key cannot open what the lost one sealed: starting would turn
    // every message waiting for delivery into a dead letter.
    if (const auto store = directory(data_dir); missing && !families_in(store).empty()) {
        throw std::runtime_error("the outbox key file " + file.string() + " is missing but " +
                                 store.string() +
                                 " holds messages sealed with a key: restore the key file (or "
                                 "set outbox.key), or move the outbox databases away");
    }
    if (create) {
        return key_from(load_or_create_key_file(file, key_size, "outbox key"));
    }
    if (missing) {
        return std::nullopt;
    }
    return key_from(read_key_file(file, key_size, "outbox key"));
}

}  // namespace

Key load_key(const std::optional<std::string>& configured, const std::filesystem::path& data_dir) {
    return *find_key(configured, data_dir, true);
}

void check_key(const std::optional<std::string>& configured,
               const std::filesystem::path& data_dir) {
    find_key(configured, data_dir, false);
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
