#pragma once
/// @file
/// Self-contained, opaque ids for the items of `addresses` and `streets`.
///
/// Passerelle keeps a table of the addresses it returned so that
/// `addresses?id=…` finds one again. relais keeps no personal data, so the
/// id carries the address itself, encrypted: `2.` (the format's version)
/// followed by the base64url encoding (no padding) of the item's fields
/// sealed with AES-256-SIV (OpenSSL). SIV is deterministic, so the same
/// address always gets the same id, and authenticated, so that nobody
/// without the key can read an id (URLs and form data are logged and
/// stored elsewhere) nor make one. Decoding also checks every field's
/// pattern and bound, and that the text is the canonical encoding.

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

// OpenSSL's EVP_CIPHER, kept out of this header.
struct evp_cipher_st;

namespace relais::base_adresse {

/// An address found by the geocoder, as relais returns it.
struct Address {
    std::string ban_id;  ///< the BAN's id (e.g. 75104_0318_00008); may be empty
    std::string label;   ///< the whole address in one line; never empty
    std::string type;    ///< housenumber, street, locality or municipality; may be empty
    std::string house_number;
    std::string road;
    std::string postcode;
    std::string citycode;
    std::string city;
    std::string lat;  ///< decimal degrees, as text (Nominatim's shape)
    std::string lon;

    bool operator==(const Address&) const = default;
};

/// A street found by the geocoder (type=street).
struct Street {
    std::string ban_id;
    std::string name;  ///< never empty
    std::string postcode;
    std::string citycode;
    std::string city;

    bool operator==(const Street&) const = default;
};

/// Bounds of the fields of an id (in bytes); an item whose fields do not
/// fit is left out of the answers rather than given an id.
inline constexpr std::size_t max_label_bytes = 300;
inline constexpr std::size_t max_name_bytes = 200;
inline constexpr std::size_t max_short_bytes = 64;
/// No id relais hands out is longer.
inline constexpr std::size_t max_id_chars = 1400;

/// Whether the fields are within the patterns and bounds an id accepts.
bool is_encodable(const Address& address);
bool is_encodable(const Street& street);

/// Key material an IdCodec needs at least (the id_key setting, or the
/// random bytes of the key file).
inline constexpr std::size_t min_secret_bytes = 32;

class IdCodec {
public:
    /// `secret`: at least min_secret_bytes of key material, from which the
    /// SIV key is derived (HKDF-SHA-256). Throws std::invalid_argument when
    /// shorter, std::runtime_error when OpenSSL lacks AES-SIV.
    explicit IdCodec(std::string_view secret);
    ~IdCodec();
    IdCodec(const IdCodec&) = delete;
    IdCodec& operator=(const IdCodec&) = delete;

    /// nullopt when `is_encodable` is false.
    std::optional<std::string> encode(const Address& address) const;
    std::optional<std::string> encode(const Street& street) const;
    /// nullopt for anything `encode` did not produce with this key.
    std::optional<Address> decode_address(std::string_view id) const;
    std::optional<Street> decode_street(std::string_view id) const;

    /// Tells codecs apart without revealing their key: equal for codecs of
    /// the same secret (hex of a digest of the derived key).
    const std::string& fingerprint() const noexcept { return fingerprint_; }

private:
    struct CipherFree {
        void operator()(evp_cipher_st* cipher) const noexcept;
    };

    std::string seal(const std::string& payload) const;
    std::optional<std::string> open(std::string_view id) const;

    std::array<unsigned char, 64> key_{};  ///< AES-256-SIV takes two AES-256 keys
    std::unique_ptr<evp_cipher_st, CipherFree> cipher_;
    std::string fingerprint_;
};

/// Unpadded base64url (RFC 4648 §5).
std::string base64url_encode(std::string_view bytes);
/// Strict: only the canonical encoding of some bytes is accepted.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace relais::base_adresse
