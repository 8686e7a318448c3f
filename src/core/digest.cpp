#include "core/digest.hpp"

#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

namespace relais {

namespace {

struct MdFree {
    void operator()(EVP_MD* md) const noexcept { EVP_MD_free(md); }
};

struct MdContextFree {
    void operator()(EVP_MD_CTX* context) const noexcept { EVP_MD_CTX_free(context); }
};

/// The algorithm, looked up once: EVP_sha256() makes OpenSSL 3 look it up
/// in its provider tables, under a lock, on every digest. An API key is
/// hashed on every request it authenticates.
const EVP_MD* sha256_algorithm() {
    static const std::unique_ptr<EVP_MD, MdFree> algorithm(
        EVP_MD_fetch(nullptr, "SHA2-256", nullptr));
    return algorithm.get();
}

[[noreturn]] void digest_failed() {
    throw std::runtime_error("SHA-256 computation failed");
}

}  // namespace

Sha256 sha256(std::string_view text) {
    // One context per thread, reset by each digest, instead of one allocated
    // and freed per digest.
    thread_local const std::unique_ptr<EVP_MD_CTX, MdContextFree> context(EVP_MD_CTX_new());
    const EVP_MD* algorithm = sha256_algorithm();
    if (!context || algorithm == nullptr) {
        digest_failed();
    }
    Sha256 out{};
    unsigned int size = 0;
    if (EVP_DigestInit_ex2(context.get(), algorithm, nullptr) != 1 ||
        EVP_DigestUpdate(context.get(), text.data(), text.size()) != 1 ||
        EVP_DigestFinal_ex(context.get(), out.data(), &size) != 1) {
        digest_failed();
    }
    return out;
}

}  // namespace relais
