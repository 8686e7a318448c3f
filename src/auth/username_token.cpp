#include "auth/username_token.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <memory>
#include <span>
#include <stdexcept>

#include "auth/publik_signature.hpp"
#include "core/url_encoding.hpp"

namespace relais::auth {

namespace {

bool digits(std::string_view text) noexcept {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int two_digits(std::string_view text) noexcept {
    return (text[0] - '0') * 10 + (text[1] - '0');
}

}  // namespace

std::string password_digest(std::string_view nonce, std::string_view created,
                            std::string_view password) {
    const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                          &EVP_MD_CTX_free);
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned size = 0;
    const bool ok = context != nullptr &&
                    EVP_DigestInit_ex(context.get(), EVP_sha1(), nullptr) == 1 &&
                    EVP_DigestUpdate(context.get(), nonce.data(), nonce.size()) == 1 &&
                    EVP_DigestUpdate(context.get(), created.data(), created.size()) == 1 &&
                    EVP_DigestUpdate(context.get(), password.data(), password.size()) == 1 &&
                    EVP_DigestFinal_ex(context.get(), digest.data(), &size) == 1;
    if (!ok) {
        throw std::runtime_error("SHA-1 failed");
    }
    return base64_encode(std::span<const unsigned char>(digest.data(), size));
}

std::optional<std::chrono::system_clock::time_point> parse_created(std::string_view text) noexcept {
    constexpr std::size_t seconds_end = 19;  // YYYY-MM-DDThh:mm:ss
    if (text.size() < seconds_end + 1) {
        return std::nullopt;
    }
    std::array<char, seconds_end + 1> utc{};
    std::copy_n(text.begin(), seconds_end, utc.begin());
    utc.back() = 'Z';
    const auto whole = parse_timestamp(std::string_view(utc.data(), utc.size()));
    if (!whole) {
        return std::nullopt;
    }
    std::string_view rest = text.substr(seconds_end);
    std::chrono::system_clock::time_point at = *whole;
    if (rest.front() == '.') {
        const std::size_t end = rest.find_first_not_of("0123456789", 1);
        const std::string_view fraction =
            rest.substr(1, end == std::string_view::npos ? end : end - 1);
        if (!digits(fraction) || end == std::string_view::npos) {
            return std::nullopt;
        }
        // Milliseconds are plenty for a five-minute window.
        std::chrono::milliseconds millis{0};
        for (std::size_t i = 0; i < 3; ++i) {
            millis = millis * 10 +
                     std::chrono::milliseconds(i < fraction.size() ? fraction[i] - '0' : 0);
        }
        at += millis;
        rest = rest.substr(end);
    }
    if (rest == "Z") {
        return at;
    }
    if (rest.size() != 6 || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':' ||
        !digits(rest.substr(1, 2)) || !digits(rest.substr(4, 2))) {
        return std::nullopt;
    }
    const int hours = two_digits(rest.substr(1, 2));
    const int minutes = two_digits(rest.substr(4, 2));
    if (hours > 14 || minutes > 59) {
        return std::nullopt;
    }
    const auto offset = std::chrono::hours(hours) + std::chrono::minutes(minutes);
    // A local time ahead of UTC (+hh:mm) is that much later than the same UTC reading.
    return rest[0] == '+' ? at - offset : at + offset;
}

}  // namespace relais::auth
