#include "core/utf8.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace relais {

namespace {

template <typename Allowed>
bool valid_utf8(std::string_view text, Allowed allowed_beyond_ascii) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const auto* const end = p + text.size();
    while (p < end) {
        std::uint64_t word = 0;
        while (end - p >= 8 && (std::memcpy(&word, p, 8), (word & 0x8080808080808080U) == 0)) {
            p += 8;
        }
        if (p == end) {
            break;
        }
        const unsigned char lead = *p;
        if (lead < 0x80) {
            ++p;
            continue;
        }
        std::ptrdiff_t follow = 0;
        std::uint32_t code = 0;
        std::uint32_t smallest = 0;
        if ((lead & 0xE0U) == 0xC0U) {
            follow = 1;
            code = lead & 0x1FU;
            smallest = 0x80;
        } else if ((lead & 0xF0U) == 0xE0U) {
            follow = 2;
            code = lead & 0x0FU;
            smallest = 0x800;
        } else if ((lead & 0xF8U) == 0xF0U) {
            follow = 3;
            code = lead & 0x07U;
            smallest = 0x10000;
        } else {
            return false;
        }
        if (end - p <= follow) {
            return false;
        }
        for (std::ptrdiff_t i = 1; i <= follow; ++i) {
            if ((p[i] & 0xC0U) != 0x80U) {
                return false;
            }
            code = (code << 6) | (p[i] & 0x3FU);
        }
        if (code < smallest || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF) ||
            !allowed_beyond_ascii(code)) {
            return false;
        }
        p += follow + 1;
    }
    return true;
}

}  // namespace

bool is_valid_utf8(std::string_view text) noexcept {
    return valid_utf8(text, [](std::uint32_t) noexcept { return true; });
}

bool is_valid_utf8(std::string_view text,
                   bool (*allowed_beyond_ascii)(std::uint32_t) noexcept) noexcept {
    return valid_utf8(text, allowed_beyond_ascii);
}

std::string utf8_excerpt(std::string_view text, std::size_t limit, std::string_view unreadable) {
    std::size_t n = std::min(text.size(), limit);
    while (n > 0 && n < text.size() && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) {
        --n;
    }
    std::string out(text.substr(0, n));
    if (!is_valid_utf8(out)) {
        return std::string(unreadable);
    }
    if (n < text.size()) {
        out += "…";
    }
    return out;
}

}  // namespace relais
