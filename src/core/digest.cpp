#include "core/digest.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace relais {

Sha256 sha256(std::string_view text) {
    Sha256 out{};
    unsigned int size = 0;
    if (EVP_Digest(text.data(), text.size(), out.data(), &size, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("SHA-256 computation failed");
    }
    return out;
}

}  // namespace relais
