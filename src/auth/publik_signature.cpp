#include "auth/publik_signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <climits>
#include <cstdio>
#include <stdexcept>
#include <vector>

#include "core/url_encoding.hpp"

namespace relais::auth {

namespace {

using std::chrono::system_clock;

struct AlgorithmInfo {
    SignatureAlgorithm algorithm;
    std::string_view name;
    const EVP_MD* (*md)();
};

constexpr std::array<AlgorithmInfo, 5> algorithms{{
    {SignatureAlgorithm::sha1, "sha1", EVP_sha1},
    {SignatureAlgorithm::sha224, "sha224", EVP_sha224},
    {SignatureAlgorithm::sha256, "sha256", EVP_sha256},
    {SignatureAlgorithm::sha384, "sha384", EVP_sha384},
    {SignatureAlgorithm::sha512, "sha512", EVP_sha512},
}};

const AlgorithmInfo& info(SignatureAlgorithm algorithm) noexcept {
    return algorithms[static_cast<std::size_t>(algorithm)];
}

/// HMAC of `data`; at most EVP_MAX_MD_SIZE bytes, `size` tells how many.
struct Mac {
    std::array<unsigned char, EVP_MAX_MD_SIZE> bytes{};
    unsigned size = 0;
};

Mac hmac(SignatureAlgorithm algorithm, std::string_view key, std::string_view data) {
    if (key.size() > INT_MAX) {
        throw std::length_error("signature key too long");
    }
    Mac mac;
    if (HMAC(info(algorithm).md(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.bytes.data(),
             &mac.size) == nullptr) {
        throw std::runtime_error("HMAC computation failed");
    }
    return mac;
}

bool all_digits(std::string_view text) noexcept {
    for (char c : text) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

int number(std::string_view digits) noexcept {
    int value = 0;
    for (char c : digits) {
        value = value * 10 + (c - '0');
    }
    return value;
}

SignatureFailure failure(std::string reason) {
    return {ErrorClass::invalid_signature, std::move(reason)};
}

/// One `name=value` of a query, name decoded, value raw.
struct RawParam {
    std::string name;
    std::string_view value;
    std::size_t begin = 0;  ///< offset of the name in the query
    std::size_t end = 0;    ///< offset just past the value
};

}  // namespace

std::optional<SignatureAlgorithm> parse_signature_algorithm(std::string_view name) noexcept {
    for (const auto& a : algorithms) {
        if (a.name == name) {
            return a.algorithm;
        }
    }
    return std::nullopt;
}

std::string_view algorithm_name(SignatureAlgorithm algorithm) noexcept {
    return info(algorithm).name;
}

std::string format_timestamp(system_clock::time_point t) {
    const auto seconds = std::chrono::floor<std::chrono::seconds>(t);
    const auto day = std::chrono::floor<std::chrono::days>(seconds);
    const std::chrono::year_month_day date(day);
    const std::chrono::hh_mm_ss time(seconds - day);
    char text[32];
    std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02dZ",
                  static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                  static_cast<unsigned>(date.day()), static_cast<int>(time.hours().count()),
                  static_cast<int>(time.minutes().count()),
                  static_cast<int>(time.seconds().count()));
    return text;
}

std::optional<std::chrono::sys_seconds> parse_timestamp(std::string_view text) noexcept {
    // YYYY-MM-DDTHH:MM:SSZ
    if (text.size() != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
        text[13] != ':' || text[16] != ':' || text[19] != 'Z') {
        return std::nullopt;
    }
    const std::string_view fields[] = {text.substr(0, 4),  text.substr(5, 2),  text.substr(8, 2),
                                       text.substr(11, 2), text.substr(14, 2), text.substr(17, 2)};
    for (auto f : fields) {
        if (!all_digits(f)) {
            return std::nullopt;
        }
    }
    const std::chrono::year_month_day date{
        std::chrono::year(number(fields[0])),
        std::chrono::month(static_cast<unsigned>(number(fields[1]))),
        std::chrono::day(static_cast<unsigned>(number(fields[2])))};
    const int hours = number(fields[3]);
    const int minutes = number(fields[4]);
    const int seconds = number(fields[5]);
    // Beyond these years a time would not fit in a system_clock time point
    // (nanoseconds, 1677 to 2262) and would wrap around when compared.
    if (!date.ok() || date.year() < std::chrono::year(1970) ||
        date.year() > std::chrono::year(2200) || hours > 23 || minutes > 59 || seconds > 59) {
        return std::nullopt;
    }
    return std::chrono::sys_days(date) + std::chrono::hours(hours) + std::chrono::minutes(minutes) +
           std::chrono::seconds(seconds);
}

std::string random_nonce() {
    std::array<unsigned char, 16> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        throw std::runtime_error("the random number generator failed");
    }
    return hex_encode(bytes);
}

std::string sign_query(std::string_view query, std::string_view key, SignatureAlgorithm algorithm,
                       system_clock::time_point timestamp, std::string_view nonce) {
    std::string out(query);
    if (!out.empty()) {
        out += '&';
    }
    out += "algo=";
    append_form_encoded(out, algorithm_name(algorithm));
    out += "&timestamp=";
    append_form_encoded(out, format_timestamp(timestamp));
    out += "&nonce=";
    append_form_encoded(out, nonce);
    const Mac mac = hmac(algorithm, key, out);
    out += "&signature=";
    append_quoted(out, base64_encode({mac.bytes.data(), mac.size}));
    return out;
}

std::string with_orig(std::string_view url, std::string_view orig) {
    const auto hash = url.find('#');
    const auto insert_at = hash == std::string_view::npos ? url.size() : hash;
    const auto mark = url.find('?');
    std::string out(url.substr(0, insert_at));
    if (mark == std::string_view::npos || mark > insert_at) {
        out += '?';
    } else if (insert_at > mark + 1) {
        out += '&';
    }
    out += "orig=";
    append_form_encoded(out, orig);
    out += url.substr(insert_at);
    return out;
}

std::string sign_url(std::string_view url, std::string_view key, SignatureAlgorithm algorithm,
                     system_clock::time_point timestamp, std::string_view nonce) {
    std::string_view fragment;
    if (const auto hash = url.find('#'); hash != std::string_view::npos) {
        fragment = url.substr(hash);
        url = url.substr(0, hash);
    }
    std::string_view query;
    if (const auto mark = url.find('?'); mark != std::string_view::npos) {
        query = url.substr(mark + 1);
        url = url.substr(0, mark);
    }
    std::string out(url);
    out += '?';
    out += sign_query(query, key, algorithm, timestamp, nonce);
    out += fragment;
    return out;
}

std::variant<SignedQuery, SignatureFailure> parse_signed_query(std::string_view raw_query) {
    std::vector<RawParam> params;
    for (std::size_t begin = 0; begin <= raw_query.size();) {
        std::size_t end = raw_query.find('&', begin);
        if (end == std::string_view::npos) {
            end = raw_query.size();
        }
        const std::string_view segment = raw_query.substr(begin, end - begin);
        const std::size_t eq = segment.find('=');
        auto name = url_decode(segment.substr(0, eq), true);
        if (!name) {
            return failure("malformed query");
        }
        params.push_back(
            {std::move(*name),
             eq == std::string_view::npos ? std::string_view{} : segment.substr(eq + 1), begin,
             end});
        begin = end + 1;
    }

    const RawParam* signature = nullptr;
    for (const auto& p : params) {
        if (p.name == "signature") {
            if (signature != nullptr) {
                return failure("signature given more than once");
            }
            signature = &p;
        }
    }
    if (signature == nullptr) {
        return failure("missing signature");
    }
    if (signature != &params.back()) {
        return failure("signature is not the last parameter");
    }
    if (signature->begin == 0) {
        return failure("nothing signed before the signature");
    }

    SignedQuery out;
    out.signed_part = raw_query.substr(0, signature->begin - 1);
    auto decoded_signature = url_decode(signature->value, false);
    if (decoded_signature) {
        decoded_signature = base64_decode(*decoded_signature);
    }
    if (!decoded_signature) {
        return failure("malformed signature");
    }
    out.signature = std::move(*decoded_signature);

    // Each of these must come exactly once: a second `orig` or `timestamp`
    // could make relais and the connector read different values.
    std::optional<std::string> fields[4];
    constexpr std::string_view names[4] = {"orig", "algo", "timestamp", "nonce"};
    for (const auto& p : params) {
        for (std::size_t i = 0; i < 4; ++i) {
            if (p.name != names[i]) {
                continue;
            }
            if (fields[i]) {
                return failure(std::string(names[i]) + " given more than once");
            }
            fields[i] = url_decode(p.value, true);
            if (!fields[i]) {
                return failure("malformed " + std::string(names[i]));
            }
        }
    }
    for (std::size_t i = 0; i < 4; ++i) {
        if (!fields[i] || fields[i]->empty()) {
            return failure("missing " + std::string(names[i]));
        }
    }
    out.orig = std::move(*fields[0]);
    const auto algorithm = parse_signature_algorithm(*fields[1]);
    if (!algorithm) {
        return failure("unknown algorithm");
    }
    out.algorithm = *algorithm;
    const auto timestamp = parse_timestamp(*fields[2]);
    if (!timestamp) {
        return failure("malformed timestamp");
    }
    out.timestamp = *timestamp;
    if (fields[3]->size() > max_nonce_length) {
        return failure("nonce longer than " + std::to_string(max_nonce_length) + " characters");
    }
    out.nonce = std::move(*fields[3]);
    return out;
}

std::optional<SignatureFailure> verify_signature(const SignedQuery& query, std::string_view key,
                                                 system_clock::time_point now) {
    const Mac expected = hmac(query.algorithm, key, query.signed_part);
    // The length of a MAC is public (it follows from `algo`); only the
    // comparison of the bytes must not leak where they differ.
    if (query.signature.size() != expected.size ||
        CRYPTO_memcmp(query.signature.data(), expected.bytes.data(), expected.size) != 0) {
        return failure("signature mismatch");
    }
    return check_clock(query.timestamp, now, signature_window, "timestamp");
}

std::optional<SignatureFailure> check_clock(system_clock::time_point stamped,
                                            system_clock::time_point now,
                                            std::chrono::seconds window, std::string_view what) {
    const auto delta = now - stamped;
    if (delta > window) {
        const auto seconds = std::chrono::floor<std::chrono::seconds>(delta).count();
        return SignatureFailure{
            ErrorClass::expired_signature,
            std::string(what) + " " + std::to_string(seconds) + " s in the past"};
    }
    if (-delta > window) {
        const auto seconds = std::chrono::floor<std::chrono::seconds>(-delta).count();
        return SignatureFailure{
            ErrorClass::expired_signature,
            std::string(what) + " " + std::to_string(seconds) + " s in the future"};
    }
    return std::nullopt;
}

}  // namespace relais::auth
