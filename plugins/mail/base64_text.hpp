#pragma once
/// @file
/// Checking a base64 text without decoding it: a scanned document travels
/// from the GEC to w.c.s. in base64 and is never decoded on the way, so
/// relais only needs to know that the text is base64, how large it is
/// decoded, and how its first bytes read. The text may come in pieces.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace relais::mail {

/// Reads a text piece by piece and tells whether it is strict base64
/// (RFC 4648, section 4): the standard alphabet, '=' padding to a multiple
/// of 4 characters, no whitespace or line breaks, and zero bits where the
/// padding leaves some unused (the canonical encoding). Decodes only the
/// first head_capacity bytes.
class StrictBase64 {
public:
    /// How many decoded bytes head() keeps.
    static constexpr std::size_t head_capacity = 8;

    /// Reads the next characters. False as soon as the text read so far
    /// cannot begin a strict base64 text, and from then on.
    bool read(std::string_view characters) noexcept;
    /// Whether the text read so far is a whole strict base64 text.
    bool complete() const noexcept { return !broken_ && (data_ + padding_) % 4 == 0; }
    /// The bytes the characters read so far decode to, complete or not.
    std::size_t decoded_bytes() const noexcept { return data_ * 3 / 4; }
    /// The first decoded bytes, at most head_capacity.
    std::string_view head() const noexcept { return {head_.data(), head_size_}; }

private:
    void read_padding() noexcept;
    void decode_into_head(unsigned sextet) noexcept;

    std::size_t data_ = 0;     ///< characters of the alphabet
    std::size_t padding_ = 0;  ///< '=' characters
    unsigned last_sextet_ = 0;
    bool broken_ = false;
    std::uint32_t pending_bits_ = 0;  ///< read but not yet a byte of the head
    unsigned pending_bit_count_ = 0;
    std::array<char, head_capacity> head_{};
    std::size_t head_size_ = 0;
};

}  // namespace relais::mail
