#include "mail/base64_text.hpp"

namespace relais::mail {

namespace {

constexpr std::int8_t not_base64 = -1;

constexpr std::array<std::int8_t, 256> make_sextets() {
    std::array<std::int8_t, 256> table{};
    table.fill(not_base64);
    constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (std::size_t i = 0; i < alphabet.size(); ++i) {
        table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    }
    return table;
}

constexpr std::array<std::int8_t, 256> sextets = make_sextets();

}  // namespace

bool StrictBase64::read(std::string_view characters) noexcept {
    for (const char c : characters) {
        if (broken_) {
            break;
        }
        // '=' is not in the table, and nothing of the alphabet may follow it.
        const std::int8_t sextet = sextets[static_cast<unsigned char>(c)];
        if (sextet != not_base64 && padding_ == 0) {
            ++data_;
            last_sextet_ = static_cast<unsigned>(sextet);
            if (head_size_ < head_capacity) {
                decode_into_head(last_sextet_);
            }
        } else if (c == '=') {
            read_padding();
        } else {
            broken_ = true;
        }
    }
    return !broken_;
}

void StrictBase64::read_padding() noexcept {
    // Padding closes a group of 2 characters (then "==") or of 3 (then "=").
    // The last character of the group carries 4 or 2 bits that no byte
    // uses: a canonical encoder leaves them zero.
    const std::size_t position = (data_ + padding_) % 4;
    if (padding_ == 0) {
        const unsigned unused_bits = position == 2 ? 0x0Fu : 0x03u;
        broken_ = (position != 2 && position != 3) || (last_sextet_ & unused_bits) != 0;
    } else {
        broken_ = padding_ != 1 || position != 3;
    }
    ++padding_;
}

void StrictBase64::decode_into_head(unsigned sextet) noexcept {
    pending_bits_ = (pending_bits_ << 6) | sextet;
    pending_bit_count_ += 6;
    if (pending_bit_count_ >= 8) {
        pending_bit_count_ -= 8;
        head_[head_size_++] = static_cast<char>((pending_bits_ >> pending_bit_count_) & 0xFF);
        pending_bits_ &= (1u << pending_bit_count_) - 1;
    }
}

}  // namespace relais::mail
