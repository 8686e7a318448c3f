#include "base-adresse/id_key_file.hpp"

#include <openssl/rand.h>

#include <stdexcept>
#include <system_error>

#include "base-adresse/address_id.hpp"
#include "core/key_file.hpp"
#include "outbox/files.hpp"

namespace relais::base_adresse {

std::string load_id_key_file(const std::filesystem::path& data_dir) {
    outbox::create_private_directory(data_dir);
    return load_or_create_key_file(data_dir / id_key_file_name, min_secret_bytes, "address id key");
}

std::string check_id_key_file(const std::filesystem::path& data_dir) {
    const auto file = data_dir / id_key_file_name;
    std::error_code error;
    if (std::filesystem::symlink_status(file, error).type() !=
        std::filesystem::file_type::not_found) {
        return read_key_file(file, min_secret_bytes, "address id key");
    }
    std::string secret(min_secret_bytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()),
                   static_cast<int>(secret.size())) != 1) {
        throw std::runtime_error("no random bytes for the address id key");
    }
    return secret;
}

}  // namespace relais::base_adresse
