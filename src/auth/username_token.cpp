#include "auth/username_token.hpp"

#include <openssl/evp.h>

#include <array>
#include <ctime>
#include <stdexcept>

#include "core/url_encoding.hpp"

namespace relais::auth {

std::string password_digest(std::span<const unsigned char> nonce, std::string_view created,
                            std::string_view password) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    const bool ok = context != nullptr && EVP_DigestInit_ex(context, EVP_sha1(), nullptr) == 1 &&
                    EVP_DigestUpdate(context, nonce.data(), nonce.size()) == 1 &&
                    EVP_DigestUpdate(context, created.data(), created.size()) == 1 &&
                    EVP_DigestUpdate(context, password.data(), password.size()) == 1 &&
                    EVP_DigestFinal_ex(context, digest.data(), &size) == 1;
    EVP_MD_CTX_free(context);
    if (!ok) {
        throw std::runtime_error("SHA-1 computation failed");
    }
    return base64_encode(std::span<const unsigned char>(digest.data(), size));
}

std::string created_text(std::chrono::system_clock::time_point time) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

}  // namespace relais::auth
