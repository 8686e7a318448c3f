#include "core/utf8.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace relais {

std::optional<CodePoint> utf8_at(std::string_view text, std::size_t at) noexcept {
    const auto lead = static_cast<unsigned char>(text[at]);
    if (lead < 0x80) {
        return CodePoint{lead, 1};
    }
    std::size_t follow = 0;
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
        return std::nullopt;
    }
    if (text.size() - at <= follow) {
        return std::nullopt;
    }
    for (std::size_t i = 1; i <= follow; ++i) {
        const auto next = static_cast<unsigned char>(text[at + i]);
        if ((next & 0xC0U) != 0x80U) {
            return std::nullopt;
        }
        code = (code << 6) | (next & 0x3FU);
    }
    if (code < smallest || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
        return std::nullopt;
    }
    return CodePoint{code, follow + 1};
}

namespace {

template <typename Allowed>
bool valid_utf8(std::string_view text, Allowed allowed_beyond_ascii) noexcept {
    std::size_t at = 0;
    while (at < text.size()) {
        std::uint64_t word = 0;
        while (text.size() - at >= 8 &&
               (std::memcpy(&word, text.data() + at, 8), (word & 0x8080808080808080U) == 0)) {
            at += 8;
        }
        if (at == text.size()) {
            break;
        }
        const auto c = utf8_at(text, at);
        if (!c || (c->value >= 0x80 && !allowed_beyond_ascii(c->value))) {
            return false;
        }
        at += c->bytes;
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
