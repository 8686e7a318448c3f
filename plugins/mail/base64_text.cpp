#include "mail/base64_text.hpp"

#include <array>
#include <cstdint>

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

std::int8_t sextet(char c) noexcept {
    return sextets[static_cast<unsigned char>(c)];
}

}  // namespace

std::optional<std::size_t> strict_base64_size(std::string_view text) noexcept {
    if (text.size() % 4 != 0) {
        return std::nullopt;
    }
    std::size_t padding = 0;
    if (text.ends_with("==")) {
        padding = 2;
    } else if (text.ends_with('=')) {
        padding = 1;
    }
    const std::string_view data = text.substr(0, text.size() - padding);
    // '=' is not in the table: padding anywhere but at the end is refused here.
    for (const char c : data) {
        if (sextet(c) == not_base64) {
            return std::nullopt;
        }
    }
    // The last character before the padding carries 2 (one '=') or 4 (two)
    // bits that no byte uses: a canonical encoder leaves them zero.
    if (padding > 0) {
        const auto last = static_cast<unsigned>(sextet(data.back()));
        if ((last & (padding == 1 ? 0x03u : 0x0Fu)) != 0) {
            return std::nullopt;
        }
    }
    return text.size() / 4 * 3 - padding;
}

bool base64_starts_with(std::string_view text, std::string_view prefix) noexcept {
    std::size_t matched = 0;
    for (std::size_t i = 0; i + 4 <= text.size() && matched < prefix.size(); i += 4) {
        std::uint32_t bits = 0;
        std::size_t characters = 0;
        for (; characters < 4 && text[i + characters] != '='; ++characters) {
            bits |= static_cast<std::uint32_t>(sextet(text[i + characters]))
                    << (18 - 6 * characters);
        }
        // 4 characters make 3 bytes, 3 make 2, 2 make 1.
        for (std::size_t byte = 0; byte + 1 < characters && matched < prefix.size(); ++byte) {
            const auto decoded = static_cast<char>((bits >> (16 - 8 * byte)) & 0xFF);
            if (decoded != prefix[matched]) {
                return false;
            }
            ++matched;
        }
    }
    return matched == prefix.size();
}

}  // namespace relais::mail
