#include "core/xml_text.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <utility>

#include "core/utf8.hpp"

namespace relais {

namespace {

/// Whether the reference starting at `text[0] == '&'` is one XML allows
/// without a DTD; `length` is set to its length, `;` included.
bool allowed_reference(std::string_view text, std::size_t& length) noexcept {
    const std::size_t end = text.find(';');
    // The longest allowed reference is `&#x10FFFF;` (or eight zeros more).
    if (end == std::string_view::npos || end > 16) {
        return false;
    }
    length = end + 1;
    const std::string_view name = text.substr(1, end - 1);
    static constexpr std::array predefined{"amp", "lt", "gt", "quot", "apos"};
    for (const char* entity : predefined) {
        if (name == entity) {
            return true;
        }
    }
    if (!name.starts_with('#') || name.size() < 2) {
        return false;
    }
    const bool hex = name[1] == 'x';
    const std::string_view digits = name.substr(hex ? 2 : 1);
    std::uint32_t code = 0;
    const auto [stop, error] =
        std::from_chars(digits.data(), digits.data() + digits.size(), code, hex ? 16 : 10);
    return !digits.empty() && error == std::errc() && stop == digits.data() + digits.size() &&
           is_xml_char(code);
}

bool is_forbidden_control(char c) noexcept {
    return static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r';
}

}  // namespace

bool is_xml_char(std::uint32_t c) noexcept {
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
           (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

bool is_xml_text(std::string_view text) noexcept {
    return is_valid_utf8(text, is_xml_char) &&
           std::none_of(text.begin(), text.end(), is_forbidden_control);
}

bool holds_xml_noncharacter(std::string_view text) noexcept {
    // U+FFFE and U+FFFF are EF BF BE and EF BF BF; EF only ever leads.
    constexpr std::string_view prefix = "\xEF\xBF";
    for (auto at = text.find(prefix); at != std::string_view::npos;
         at = text.find(prefix, at + 1)) {
        if (at + 2 < text.size() && (text[at + 2] == '\xBE' || text[at + 2] == '\xBF')) {
            return true;
        }
    }
    return false;
}

void append_xml_text(std::string& out, std::string_view text) {
    for (const char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '\r':
                out += "&#13;";
                break;
            default:
                out += c;
        }
    }
}

void append_xml_attribute(std::string& out, std::string_view text) {
    for (const char c : text) {
        switch (c) {
            case '"':
                out += "&quot;";
                break;
            case '\t':
                out += "&#9;";
                break;
            case '\n':
                out += "&#10;";
                break;
            default:
                append_xml_text(out, std::string_view(&c, 1));
        }
    }
}

std::optional<std::string_view> disallowed_characters(std::string_view xml) noexcept {
    if (std::any_of(xml.begin(), xml.end(), is_forbidden_control)) {
        return "a control character XML does not allow";
    }
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 2> verbatim{
        {{"<!--", "-->"}, {"<![CDATA[", "]]>"}}};
    for (std::size_t i = 0; i < xml.size(); ++i) {
        if (xml[i] == '<') {
            // Comments and CDATA sections hold no references.
            for (const auto& [open, close] : verbatim) {
                if (xml.substr(i).starts_with(open)) {
                    const std::size_t end = xml.find(close, i + open.size());
                    i = end == std::string_view::npos ? xml.size() : end + close.size() - 1;
                    break;
                }
            }
        } else if (xml[i] == '&') {
            std::size_t length = 0;
            if (!allowed_reference(xml.substr(i), length)) {
                return "a character or entity reference XML does not allow";
            }
            i += length - 1;
        }
    }
    return std::nullopt;
}

}  // namespace relais
