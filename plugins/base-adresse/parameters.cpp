#include "base-adresse/parameters.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>

#include "core/utf8.hpp"

namespace relais::base_adresse {

namespace {

constexpr std::array<std::string_view, 7> names = {"search", "reverse",     "addresses", "streets",
                                                   "cities", "departments", "regions"};

/// Longest text accepted for a coordinate or a page limit.
constexpr std::size_t max_number_chars = 24;

bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

bool all_digits(std::string_view text) noexcept {
    return std::ranges::all_of(text, is_digit);
}

std::string_view trim_spaces(std::string_view text) noexcept {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

/// Whether the geocoder takes a search that starts with `c`: it wants a
/// digit or a letter that has a case. relais knows the letters of French
/// and its neighbours: ASCII ones and À to ſ (Latin-1 Supplement and Latin
/// Extended-A), but for × and ÷ (not letters) and ĸ (no case).
bool may_start_a_search(std::uint32_t c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= 0xC0 && c <= 0x17F && c != 0xD7 && c != 0xF7 && c != 0x138);
}

/// `q`, clean text, from its first character that may start a search.
std::string_view searchable(std::string_view q) noexcept {
    std::size_t i = 0;
    while (i < q.size()) {
        const auto c = utf8_at(q, i);
        if (!c || may_start_a_search(c->value)) {
            break;
        }
        i += c->bytes;
    }
    return q.substr(i);
}

ParameterError missing(std::string_view what) {
    return {ErrorClass::missing_parameter, "missing parameter: " + std::string(what)};
}

ParameterError invalid(std::string_view name, std::string_view expected) {
    return {ErrorClass::invalid_parameter,
            "invalid parameter " + std::string(name) + ": expected " + std::string(expected)};
}

class Checker {
public:
    Checker(Endpoint endpoint, const QueryParams& params) : endpoint_(endpoint), params_(params) {}

    std::variant<Query, ParameterError> run() {
        switch (endpoint_) {
            case Endpoint::search:
                take_q(true) && take_zipcode("zipcode") && take_citycode("citycode") &&
                    take_point(false) && take_page_limit();
                break;
            case Endpoint::reverse:
                take_point(true);
                break;
            case Endpoint::addresses:
                take_id() && take_q(query_.id.empty()) && take_zipcode("zipcode") &&
                    take_citycode("citycode") && take_point(false) && take_page_limit();
                break;
            case Endpoint::streets:
                take_id() && take_q(query_.id.empty()) && take_zipcode("zipcode") &&
                    take_page_limit();
                break;
            case Endpoint::cities:
                take_id() && take_q(false) && take_citycode("code") && take_department_code() &&
                    take_region_code();
                if (!error_ && query_.id.empty() && query_.q.empty() && query_.citycode.empty() &&
                    query_.department_code.empty() && query_.region_code.empty()) {
                    error_ = missing("one of q, code, department_code, region_code or id");
                }
                break;
            case Endpoint::departments:
                take_id() && take_q(false) && take_region_code();
                break;
            case Endpoint::regions:
                take_id() && take_q(false);
                break;
        }
        if (error_) {
            return std::move(*error_);
        }
        return std::move(query_);
    }

private:
    std::string_view value(std::string_view name) const {
        const std::string* v = find_param(params_, name);
        return v == nullptr ? std::string_view{} : std::string_view(*v);
    }

    bool fail(ParameterError error) {
        error_ = std::move(error);
        return false;
    }

    bool take_q(bool required) {
        const std::string_view q = trim_spaces(value("q"));
        if (q.empty()) {
            if (required) {
                return fail(missing(endpoint_ == Endpoint::search ? "q" : "q or id"));
            }
            return true;
        }
        if (q.size() > max_q_bytes) {
            return fail(invalid("q", "at most " + std::to_string(max_q_bytes) + " bytes"));
        }
        if (!is_clean_text(q)) {
            return fail(invalid("q", "UTF-8 text without control characters"));
        }
        // Autocompletion sends what is typed ("« rue", "'abbaye"), which the
        // geocoder refuses: it is given the rest, or not called at all.
        const bool geocoder = endpoint_ == Endpoint::search || endpoint_ == Endpoint::addresses ||
                              endpoint_ == Endpoint::streets;
        query_.q = geocoder ? searchable(q) : q;
        return true;
    }

    bool take_id() {
        const std::string_view id = value("id");
        // Ids are checked further by whoever decodes them; this bound keeps
        // anything larger than any id relais hands out away from them.
        if (id.size() > 2048 || !is_clean_text(id)) {
            return fail(invalid("id", "an id returned by this endpoint"));
        }
        query_.id = id;
        return true;
    }

    bool take_zipcode(std::string_view name) {
        const std::string_view v = value(name);
        if (!v.empty() && !is_zipcode(v)) {
            return fail(invalid(name, "a postal code of 5 digits"));
        }
        query_.zipcode = v;
        return true;
    }

    bool take_citycode(std::string_view name) {
        const std::string_view v = value(name);
        if (!v.empty() && !is_citycode(v)) {
            return fail(invalid(name, "an INSEE commune code (5 characters, 2A/2B for Corsica)"));
        }
        query_.citycode = v;
        return true;
    }

    bool take_department_code() {
        const std::string_view v = value("department_code");
        if (!v.empty() && !is_department_code(v)) {
            return fail(
                invalid("department_code", "a department code (01 to 95, 2A, 2B, 971 to 976)"));
        }
        query_.department_code = v;
        return true;
    }

    bool take_region_code() {
        const std::string_view v = value("region_code");
        if (!v.empty() && !is_region_code(v)) {
            return fail(invalid("region_code", "a region code of 2 digits"));
        }
        query_.region_code = v;
        return true;
    }

    bool take_point(bool required) {
        const std::string_view lat = value("lat");
        const std::string_view lon = value("lon");
        if (lat.empty() && lon.empty() && !required) {
            return true;
        }
        if (lat.empty()) {
            return fail(missing("lat"));
        }
        if (lon.empty()) {
            return fail(missing("lon"));
        }
        const auto la = parse_degrees(lat);
        if (!la || *la < -90 || *la > 90) {
            return fail(invalid("lat", "a latitude in decimal degrees, from -90 to 90"));
        }
        const auto lo = parse_degrees(lon);
        if (!lo || *lo < -180 || *lo > 180) {
            return fail(invalid("lon", "a longitude in decimal degrees, from -180 to 180"));
        }
        query_.point = Point{*la, *lo};
        return true;
    }

    bool take_page_limit() {
        const std::string_view v = value("page_limit");
        if (v.empty()) {
            return true;
        }
        unsigned limit = 0;
        const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), limit);
        if (v.size() > 3 || !all_digits(v) || ec != std::errc() || end != v.data() + v.size() ||
            limit < 1 || limit > max_page_limit) {
            return fail(
                invalid("page_limit", "an integer from 1 to " + std::to_string(max_page_limit)));
        }
        query_.page_limit = limit;
        return true;
    }

    Endpoint endpoint_;
    const QueryParams& params_;
    Query query_;
    std::optional<ParameterError> error_;
};

}  // namespace

std::optional<double> parse_degrees(std::string_view text) {
    if (text.empty() || text.size() > max_number_chars) {
        return std::nullopt;
    }
    std::string_view digits = text;
    if (digits.front() == '-' || digits.front() == '+') {
        digits.remove_prefix(1);
    }
    const auto dot = digits.find('.');
    const std::string_view whole = digits.substr(0, dot);
    const std::string_view fraction =
        dot == std::string_view::npos ? std::string_view{} : digits.substr(dot + 1);
    if (whole.empty() || !all_digits(whole) || !all_digits(fraction) ||
        (dot != std::string_view::npos && fraction.empty())) {
        return std::nullopt;
    }
    // from_chars refuses a leading '+'.
    const std::string_view number = text.front() == '+' ? text.substr(1) : text;
    double value = 0;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value,
                                           std::chars_format::fixed);
    if (ec != std::errc() || end != number.data() + number.size() || !std::isfinite(value)) {
        return std::nullopt;
    }
    return value;
}

std::string_view name_of(Endpoint endpoint) noexcept {
    return names[static_cast<std::size_t>(endpoint)];
}

std::optional<Endpoint> endpoint_named(std::string_view name) noexcept {
    for (const Endpoint e : all_endpoints) {
        if (name_of(e) == name) {
            return e;
        }
    }
    return std::nullopt;
}

bool is_personal(Endpoint endpoint) noexcept {
    return endpoint == Endpoint::search || endpoint == Endpoint::reverse ||
           endpoint == Endpoint::addresses;
}

std::variant<Query, ParameterError> check_query(Endpoint endpoint, const QueryParams& params) {
    return Checker(endpoint, params).run();
}

bool is_zipcode(std::string_view text) noexcept {
    return text.size() == 5 && all_digits(text);
}

bool is_citycode(std::string_view text) noexcept {
    if (text.size() != 5 || !all_digits(text.substr(2))) {
        return false;
    }
    const std::string_view head = text.substr(0, 2);
    return all_digits(head) || head == "2A" || head == "2B";
}

bool is_department_code(std::string_view text) noexcept {
    if (text.size() == 2) {
        return (all_digits(text) && text != "00" && text != "20" && text < "96") || text == "2A" ||
               text == "2B";
    }
    return text.size() == 3 && text.starts_with("97") && text[2] >= '1' && text[2] <= '6';
}

bool is_region_code(std::string_view text) noexcept {
    return text.size() == 2 && all_digits(text);
}

bool is_clean_text(std::string_view text) noexcept {
    for (std::size_t i = 0; i < text.size();) {
        const auto c = utf8_at(text, i);
        // C0 controls, DEL and C1 controls.
        if (!c || c->value < 0x20 || (c->value >= 0x7F && c->value < 0xA0)) {
            return false;
        }
        i += c->bytes;
    }
    return true;
}

bool is_clean_text(std::string_view text, std::size_t max_bytes) noexcept {
    return text.size() <= max_bytes && is_clean_text(text);
}

std::size_t utf8_length(std::string_view text) noexcept {
    return static_cast<std::size_t>(std::ranges::count_if(
        text, [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace relais::base_adresse
