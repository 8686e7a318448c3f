#include "base-adresse/id_key_file.hpp"

#include "base-adresse/address_id.hpp"
#include "core/key_file.hpp"
#include "outbox/files.hpp"

namespace relais::base_adresse {

std::string load_id_key_file(const std::filesystem::path& data_dir) {
    outbox::create_private_directory(data_dir);
    return load_or_create_key_file(data_dir / id_key_file_name, min_secret_bytes, "address id key");
}

}  // namespace relais::base_adresse
