#include "base-adresse/address_id.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <algorithm>
#include <span>
#include <stdexcept>
#include <vector>

#include "base-adresse/parameters.hpp"
#include "core/digest.hpp"
#include "core/url_encoding.hpp"

namespace relais::base_adresse {

namespace {

/// Also the associated data of the seal: an id of another format version
/// never opens as this one.
constexpr std::string_view version_prefix = "2.";
constexpr std::size_t tag_bytes = 16;  ///< SIV's synthetic IV
constexpr char separator = '\x1f';     ///< never in clean text
constexpr char address_kind = 'a';
constexpr char street_kind = 's';
/// HKDF's info: the same secret keys nothing else the same way.
constexpr std::string_view key_purpose = "relais base-adresse ids, AES-256-SIV, format 2";

const unsigned char* bytes_of(std::string_view text) {
    return reinterpret_cast<const unsigned char*>(text.data());
}

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

CipherContext new_context() {
    return {EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free};
}

void derive_key(std::string_view secret, std::span<unsigned char> out) {
    EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
    EVP_KDF_CTX* ctx = kdf != nullptr ? EVP_KDF_CTX_new(kdf) : nullptr;
    EVP_KDF_free(kdf);
    // OSSL_PARAM points at its values without const; HKDF only reads them.
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(secret.data()),
                                          secret.size()),
        OSSL_PARAM_construct_octet_string(
            OSSL_KDF_PARAM_INFO, const_cast<char*>(key_purpose.data()), key_purpose.size()),
        OSSL_PARAM_construct_end()};
    const bool derived = ctx != nullptr && EVP_KDF_derive(ctx, out.data(), out.size(), params) == 1;
    EVP_KDF_CTX_free(ctx);
    if (!derived) {
        throw std::runtime_error("HKDF-SHA-256 is not available from OpenSSL");
    }
}

bool is_ban_id(std::string_view text) {
    return text.size() <= max_short_bytes && std::ranges::all_of(text, [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-';
           });
}

bool is_degrees(std::string_view text, double bound) {
    const auto value = parse_degrees(text);
    return value && *value >= -bound && *value <= bound;
}

bool optional_matches(std::string_view text, bool (*pattern)(std::string_view) noexcept) {
    return text.empty() || pattern(text);
}

std::string join(char kind, std::initializer_list<std::string_view> fields) {
    std::string out(1, kind);
    for (const std::string_view f : fields) {
        out += separator;
        out += f;
    }
    return out;
}

/// The fields after the kind byte, if `payload` starts with `kind` and has
/// exactly `count` of them.
std::optional<std::vector<std::string>> split(std::string_view payload, char kind,
                                              std::size_t count) {
    if (payload.size() < 2 || payload[0] != kind || payload[1] != separator) {
        return std::nullopt;
    }
    std::vector<std::string> fields;
    std::string_view rest = payload.substr(2);
    while (true) {
        const auto end = rest.find(separator);
        fields.emplace_back(rest.substr(0, end));
        if (end == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(end + 1);
    }
    if (fields.size() != count) {
        return std::nullopt;
    }
    return fields;
}

}  // namespace

bool is_encodable(const Address& a) {
    return !a.label.empty() && is_ban_id(a.ban_id) && is_clean_text(a.label, max_label_bytes) &&
           is_ban_id(a.type) && is_clean_text(a.house_number, max_short_bytes) &&
           is_clean_text(a.road, max_name_bytes) && optional_matches(a.postcode, is_zipcode) &&
           optional_matches(a.citycode, is_citycode) && is_clean_text(a.city, max_name_bytes) &&
           is_degrees(a.lat, 90) && is_degrees(a.lon, 180);
}

bool is_encodable(const Street& s) {
    return !s.name.empty() && is_ban_id(s.ban_id) && is_clean_text(s.name, max_name_bytes) &&
           optional_matches(s.postcode, is_zipcode) && optional_matches(s.citycode, is_citycode) &&
           is_clean_text(s.city, max_name_bytes);
}

IdCodec::IdCodec(std::string_view secret)
    : cipher_(EVP_CIPHER_fetch(nullptr, "AES-256-SIV", nullptr)) {
    if (secret.size() < min_secret_bytes) {
        throw std::invalid_argument("the key of address ids needs at least " +
                                    std::to_string(min_secret_bytes) + " bytes");
    }
    if (!cipher_) {
        throw std::runtime_error("AES-256-SIV is not available from OpenSSL");
    }
    derive_key(secret, key_);
    std::string tagged = "fingerprint\x1f";
    tagged.append(reinterpret_cast<const char*>(key_.data()), key_.size());
    const Sha256 digest = sha256(tagged);
    OPENSSL_cleanse(tagged.data(), tagged.size());
    fingerprint_ = hex_encode(std::span(digest).first(16));
}

IdCodec::~IdCodec() {
    OPENSSL_cleanse(key_.data(), key_.size());
}

void IdCodec::CipherFree::operator()(evp_cipher_st* cipher) const noexcept {
    EVP_CIPHER_free(cipher);
}

std::string IdCodec::seal(const std::string& payload) const {
    std::string sealed(tag_bytes + payload.size(), '\0');
    auto* tag = reinterpret_cast<unsigned char*>(sealed.data());
    auto* body = tag + tag_bytes;
    const CipherContext cipher = new_context();
    int length = 0;
    int final_length = 0;
    const bool ok =
        cipher.get() != nullptr &&
        EVP_EncryptInit_ex2(cipher.get(), cipher_.get(), key_.data(), nullptr, nullptr) == 1 &&
        EVP_EncryptUpdate(cipher.get(), nullptr, &length, bytes_of(version_prefix),
                          static_cast<int>(version_prefix.size())) == 1 &&
        EVP_EncryptUpdate(cipher.get(), body, &length, bytes_of(payload),
                          static_cast<int>(payload.size())) == 1 &&
        EVP_EncryptFinal_ex(cipher.get(), body + length, &final_length) == 1 &&
        EVP_CIPHER_CTX_ctrl(cipher.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(tag_bytes),
                            tag) == 1;
    if (!ok) {
        throw std::runtime_error("AES-256-SIV encryption failed");
    }
    return std::string(version_prefix) + base64url_encode(sealed);
}

std::optional<std::string> IdCodec::open(std::string_view id) const {
    if (id.size() > max_id_chars || !id.starts_with(version_prefix)) {
        return std::nullopt;
    }
    auto sealed = base64url_decode(id.substr(version_prefix.size()));
    if (!sealed || sealed->size() <= tag_bytes) {
        return std::nullopt;
    }
    // The tag is const in `sealed`; OpenSSL's ctrl takes void*.
    std::array<unsigned char, tag_bytes> tag{};
    std::copy_n(bytes_of(*sealed), tag_bytes, tag.begin());
    const std::size_t body_size = sealed->size() - tag_bytes;
    std::string payload(body_size, '\0');
    auto* out = reinterpret_cast<unsigned char*>(payload.data());
    const CipherContext cipher = new_context();
    int length = 0;
    int final_length = 0;
    const bool opened =
        cipher.get() != nullptr &&
        EVP_DecryptInit_ex2(cipher.get(), cipher_.get(), key_.data(), nullptr, nullptr) == 1 &&
        EVP_CIPHER_CTX_ctrl(cipher.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag_bytes),
                            tag.data()) == 1 &&
        EVP_DecryptUpdate(cipher.get(), nullptr, &length, bytes_of(version_prefix),
                          static_cast<int>(version_prefix.size())) == 1 &&
        EVP_DecryptUpdate(cipher.get(), out, &length, bytes_of(*sealed) + tag_bytes,
                          static_cast<int>(body_size)) == 1 &&
        EVP_DecryptFinal_ex(cipher.get(), out + length, &final_length) == 1;
    if (!opened) {
        return std::nullopt;
    }
    return payload;
}

std::optional<std::string> IdCodec::encode(const Address& a) const {
    if (!is_encodable(a)) {
        return std::nullopt;
    }
    return seal(join(address_kind, {a.ban_id, a.label, a.type, a.house_number, a.road, a.postcode,
                                    a.citycode, a.city, a.lat, a.lon}));
}

std::optional<std::string> IdCodec::encode(const Street& s) const {
    if (!is_encodable(s)) {
        return std::nullopt;
    }
    return seal(join(street_kind, {s.ban_id, s.name, s.postcode, s.citycode, s.city}));
}

std::optional<Address> IdCodec::decode_address(std::string_view id) const {
    const auto payload = open(id);
    if (!payload) {
        return std::nullopt;
    }
    auto f = split(*payload, address_kind, 10);
    if (!f) {
        return std::nullopt;
    }
    Address a{std::move((*f)[0]), std::move((*f)[1]), std::move((*f)[2]), std::move((*f)[3]),
              std::move((*f)[4]), std::move((*f)[5]), std::move((*f)[6]), std::move((*f)[7]),
              std::move((*f)[8]), std::move((*f)[9])};
    // The seal vouches for the bytes, not for the key never having sealed
    // something else: the fields are checked as at encoding.
    if (!is_encodable(a)) {
        return std::nullopt;
    }
    return a;
}

std::optional<Street> IdCodec::decode_street(std::string_view id) const {
    const auto payload = open(id);
    if (!payload) {
        return std::nullopt;
    }
    auto f = split(*payload, street_kind, 5);
    if (!f) {
        return std::nullopt;
    }
    Street s{std::move((*f)[0]), std::move((*f)[1]), std::move((*f)[2]), std::move((*f)[3]),
             std::move((*f)[4])};
    if (!is_encodable(s)) {
        return std::nullopt;
    }
    return s;
}

std::string base64url_encode(std::string_view bytes) {
    std::string text = base64_encode(std::span<const unsigned char>(
        reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()));
    while (!text.empty() && text.back() == '=') {
        text.pop_back();
    }
    std::ranges::replace(text, '+', '-');
    std::ranges::replace(text, '/', '_');
    return text;
}

std::optional<std::string> base64url_decode(std::string_view text) {
    if (text.size() % 4 == 1 || !std::ranges::all_of(text, [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_';
        })) {
        return std::nullopt;
    }
    std::string standard(text);
    std::ranges::replace(standard, '-', '+');
    std::ranges::replace(standard, '_', '/');
    standard.append((4 - standard.size() % 4) % 4, '=');
    auto bytes = base64_decode(standard);
    // Unused low bits set would give a second spelling of the same bytes.
    if (!bytes || base64url_encode(*bytes) != text) {
        return std::nullopt;
    }
    return bytes;
}

}  // namespace relais::base_adresse
