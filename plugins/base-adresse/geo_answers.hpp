#pragma once
/// @file
/// Reading the upstreams' answers (GeoCodeJSON from the geocoder, JSON
/// arrays from API Geo) and writing relais's answers in Passerelle's
/// shapes. Readers return nullopt when the answer does not have the
/// expected overall shape (502 upstream-invalid-response); an item missing
/// what it cannot do without (a point, a label, a code) is left out.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base-adresse/address_id.hpp"

namespace relais::base_adresse {

/// A commune with one of its postal codes (API Geo's /communes gives one
/// commune with all its codes: relais lists one item per code, as
/// Passerelle does).
struct City {
    std::string code;  ///< INSEE
    std::string name;
    std::string zipcode;  ///< may be empty for a commune without postal code
    std::optional<std::int64_t> population;
    std::string department_code;
    std::string department_name;
    std::string region_code;
    std::string region_name;
};

/// A department; relais asks API Geo for its region's code only.
struct Department {
    std::string code;
    std::string name;
    std::string region_code;
};

struct Region {
    std::string code;
    std::string name;
};

std::optional<std::vector<Address>> read_addresses(std::string_view geocode_json);
std::optional<std::vector<Street>> read_streets(std::string_view geocode_json);
/// Bounds that keep the items of `cities` proportional to API Geo's answer
/// (each postal code of a commune copies the commune): a commune has at
/// most this many distinct postal codes (Paris has 21), an answer at most
/// this many items (the largest region has about 5,100 communes). Beyond,
/// the rest is left out.
inline constexpr std::size_t max_zipcodes_per_city = 50;
inline constexpr std::size_t max_city_items = 10'000;

/// Names longer than max_name_bytes, codes longer than max_short_bytes
/// (the bounds of ids' fields) leave their item out.
std::optional<std::vector<City>> read_cities(std::string_view api_geo_json);
std::optional<std::vector<Department>> read_departments(std::string_view api_geo_json);
std::optional<std::vector<Region>> read_regions(std::string_view api_geo_json);

/// One address in Nominatim's shape with relais's `id`, `text`, `ban_id`.
void write_address(std::string& out, const Address& address, std::string_view id);
/// The array of `search` and the data of `addresses`: addresses that
/// cannot get an id are left out, at most `limit` items.
std::string address_list(const std::vector<Address>& addresses, const IdCodec& ids,
                         std::size_t limit);
/// The object of `reverse`: the first address, or Nominatim's
/// `{"error":"Unable to geocode"}` when there is none.
std::string reverse_object(const std::vector<Address>& addresses, const IdCodec& ids);
std::string street_list(const std::vector<Street>& streets, const IdCodec& ids, std::size_t limit);
std::string city_list(const std::vector<City>& cities);
std::string department_list(const std::vector<Department>& departments);
std::string region_list(const std::vector<Region>& regions);

}  // namespace relais::base_adresse
