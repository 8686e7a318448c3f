#include "base-adresse/id_key_file.hpp"

#include <openssl/rand.h>

#include <stdexcept>

#include "base-adresse/address_id.hpp"
#include "core/key_file.hpp"
#include "outbox/files.hpp"

namespace relais::base_adresse {

namespace {

constexpr std::string_view key_name = "address id key";

}  // namespace

std::string load_id_key_file(const std::filesystem::path& data_dir) {
    outbox::create_private_directory(data_dir);
    return load_or_create_key_file(data_dir / id_key_file_name, min_secret_bytes, key_name);
}

std::string check_id_key_file(const std::filesystem::path& data_dir) {
    if (auto secret =
            read_key_file_if_present(data_dir / id_key_file_name, min_secret_bytes, key_name)) {
        return std::move(*secret);
    }
    std::string secret(min_secret_bytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()),
                   static_cast<int>(secret.size())) != 1) {
        throw std::runtime_error("no random bytes for the " + std::string(key_name));
    }
    return secret;
}

}  // namespace relais::base_adresse
