#pragma once
/// @file
/// The endpoints of the `base-adresse` kind and the strict checking of
/// their query parameters (Passerelle's names). A refusal names the
/// parameter, never its value: the values of address searches are personal.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/http_types.hpp"

namespace relais::base_adresse {

enum class Endpoint { search, reverse, addresses, streets, cities, departments, regions };

/// The endpoints in their fixed order (the order of Connector::endpoints()).
inline constexpr std::array<Endpoint, 7> all_endpoints = {
    Endpoint::search, Endpoint::reverse,     Endpoint::addresses, Endpoint::streets,
    Endpoint::cities, Endpoint::departments, Endpoint::regions};

/// The endpoint's name in URLs and YAML.
std::string_view name_of(Endpoint endpoint) noexcept;
/// The endpoint named `name`, if any.
std::optional<Endpoint> endpoint_named(std::string_view name) noexcept;
/// Whether the endpoint's calls may reveal a person (an address searched,
/// a point): never cached nor logged with values.
bool is_personal(Endpoint endpoint) noexcept;

/// Bounds of the checks.
inline constexpr std::size_t max_q_bytes = 200;
inline constexpr unsigned default_page_limit = 5;
inline constexpr unsigned max_page_limit = 100;
/// The geocoder refuses shorter searches: relais answers "nothing found"
/// without calling it.
inline constexpr std::size_t min_search_chars = 3;

struct Point {
    double lat = 0;
    double lon = 0;
};

/// The checked parameters of one call; empty strings are absent values.
struct Query {
    std::string q;  ///< trimmed; for the geocoder, from its first letter or digit
    std::string id;
    std::string zipcode;          ///< 5 digits
    std::string citycode;         ///< INSEE code of a commune (cities: `code`)
    std::string department_code;  ///< 01..95, 2A, 2B, 971..976
    std::string region_code;      ///< 2 digits
    std::optional<Point> point;   ///< lat and lon, both or neither
    unsigned page_limit = default_page_limit;
};

/// Why a call is refused: 400 missing-parameter or invalid-parameter.
struct ParameterError {
    ErrorClass error;
    std::string description;
};

/// Checks the parameters `endpoint` takes; parameters it does not take are
/// ignored (as Passerelle does), an empty value is an absent one.
std::variant<Query, ParameterError> check_query(Endpoint endpoint, const QueryParams& params);

/// Pattern checks, shared with the decoding of ids and upstream answers.
bool is_zipcode(std::string_view text) noexcept;
bool is_citycode(std::string_view text) noexcept;
bool is_department_code(std::string_view text) noexcept;
bool is_region_code(std::string_view text) noexcept;
/// Decimal degrees: digits with an optional sign and fraction; no exponent,
/// no "nan" or "inf". The range is the caller's to check.
std::optional<double> parse_degrees(std::string_view text);
/// Valid UTF-8 without control characters.
bool is_clean_text(std::string_view text) noexcept;
/// Clean text of at most `max_bytes` bytes.
bool is_clean_text(std::string_view text, std::size_t max_bytes) noexcept;
/// Number of UTF-8 characters of valid UTF-8 `text`.
std::size_t utf8_length(std::string_view text) noexcept;

}  // namespace relais::base_adresse
