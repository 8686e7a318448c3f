#include "core/url_encoding.hpp"

#include <openssl/evp.h>

#include <array>
#include <charconv>
#include <climits>

namespace relais {

namespace {

constexpr char hex_digits[] = "0123456789ABCDEF";

enum class Flavour { path_segment, form, quoted };

void append_encoded(std::string& out, std::string_view text, Flavour flavour) {
    for (char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (is_unreserved(c) || (flavour == Flavour::quoted && c == '/')) {
            out.push_back(ch);
        } else if (flavour == Flavour::form && c == ' ') {
            out.push_back('+');
        } else {
            out.push_back('%');
            out.push_back(hex_digits[c >> 4]);
            out.push_back(hex_digits[c & 0x0F]);
        }
    }
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/// RFC 3986 pchar without pct-encoded: unreserved, sub-delims, `:` and `@`.
constexpr std::array<bool, 256> pchar_table = [] {
    std::array<bool, 256> table{};
    for (int c = 0; c < 256; ++c) {
        table[static_cast<std::size_t>(c)] = is_unreserved(static_cast<unsigned char>(c));
    }
    for (const char c : std::string_view("!$&'()*+,;=:@")) {
        table[static_cast<unsigned char>(c)] = true;
    }
    return table;
}();

bool is_base64_char(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

}  // namespace

bool valid_uri_chars(std::string_view text) noexcept {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (pchar_table[c] || c == '/' || c == '?') {
            continue;
        }
        if (c != '%' || text.size() - i < 3 || hex_value(text[i + 1]) < 0 ||
            hex_value(text[i + 2]) < 0) {
            return false;
        }
        i += 2;
    }
    return true;
}

std::optional<std::uint16_t> parse_port(std::string_view digits) noexcept {
    unsigned port = 0;
    const char* const end = digits.data() + digits.size();
    const auto [stop, error] = std::from_chars(digits.data(), end, port);
    if (digits.empty() || error != std::errc() || stop != end || port == 0 || port > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(port);
}

void append_path_segment(std::string& out, std::string_view text) {
    append_encoded(out, text, Flavour::path_segment);
}

void append_form_encoded(std::string& out, std::string_view text) {
    append_encoded(out, text, Flavour::form);
}

void append_quoted(std::string& out, std::string_view text) {
    append_encoded(out, text, Flavour::quoted);
}

std::optional<std::string> url_decode(std::string_view text, bool plus_as_space) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '%') {
            if (i + 2 >= text.size()) {
                return std::nullopt;
            }
            const int high = hex_value(text[i + 1]);
            const int low = hex_value(text[i + 2]);
            if (high < 0 || low < 0) {
                return std::nullopt;
            }
            out.push_back(static_cast<char>(high * 16 + low));
            i += 2;
        } else if (c == '+' && plus_as_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::string hex_encode(std::span<const unsigned char> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(2 * bytes.size(), '\0');
    char* next = out.data();
    for (const unsigned char b : bytes) {
        *next++ = digits[b >> 4];
        *next++ = digits[b & 0x0F];
    }
    return out;
}

std::string base64_encode(std::span<const unsigned char> bytes) {
    // EVP_EncodeBlock writes a terminating NUL after the encoded text.
    std::string buffer(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(buffer.data()),
                                        bytes.data(), static_cast<int>(bytes.size()));
    buffer.resize(static_cast<std::size_t>(written));
    return buffer;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0 || text.size() > INT_MAX) {
        return std::nullopt;
    }
    // EVP_DecodeBlock tolerates whitespace and misplaced padding; a signature
    // or a Basic credential has neither, so anything unusual is refused here.
    std::size_t padding = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '=') {
            if (i + 2 < text.size()) {
                return std::nullopt;
            }
            ++padding;
        } else if (padding > 0 || !is_base64_char(c)) {
            return std::nullopt;
        }
    }
    std::string out(text.size() / 4 * 3, '\0');
    const int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                        reinterpret_cast<const unsigned char*>(text.data()),
                                        static_cast<int>(text.size()));
    if (written < 0) {
        return std::nullopt;
    }
    out.resize(static_cast<std::size_t>(written) - padding);
    return out;
}

}  // namespace relais
