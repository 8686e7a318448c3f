#pragma once
/// @file
/// The upstream request each call makes, as a target relative to the
/// upstream's base URL (every value percent-encoded), and the key under
/// which a reference answer is cached.

#include <optional>
#include <string>
#include <string_view>

#include "base-adresse/parameters.hpp"

namespace relais::base_adresse {

/// The id of a `cities` item: `INSEE.zipcode`, or `INSEE` for a commune
/// without postal code.
struct CityId {
    std::string code;
    std::string zipcode;
};
std::optional<CityId> parse_city_id(std::string_view id);

/// `search`, `reverse`, `addresses` (by q) and `streets` (by q): the
/// geocoder's `search` or `reverse`.
std::string geocoder_target(Endpoint endpoint, const Query& query);
/// `cities`, `departments`, `regions`: API Geo's collections. For
/// `cities`, `id` must have passed parse_city_id; for the others, an `id`
/// must be a department or region code.
std::string api_geo_target(Endpoint endpoint, const Query& query);

/// Everything that shapes a reference answer, so that two calls share an
/// entry exactly when they get the same answer.
std::string cache_key(Endpoint endpoint, const Query& query);

}  // namespace relais::base_adresse
