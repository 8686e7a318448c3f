#include "base-adresse/geo_answers.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "base-adresse/parameters.hpp"
#include "core/http_types.hpp"
#include "core/json.hpp"

namespace relais::base_adresse {

namespace {

using rapidjson::Value;

const Value* member(const Value& object, const char* name) {
    if (!object.IsObject()) {
        return nullptr;
    }
    const auto it = object.FindMember(name);
    return it == object.MemberEnd() ? nullptr : &it->value;
}

/// A string member, or empty (absent, null or not a string).
std::string text(const Value& object, const char* name) {
    const Value* v = member(object, name);
    return v != nullptr && v->IsString() ? std::string(v->GetString(), v->GetStringLength())
                                         : std::string();
}

/// Shortest text that reads back as `value`, never in exponent form
/// (Nominatim's lat and lon are plain decimals).
std::string degrees_text(double value) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed);
    return {buf, r.ptr};
}

std::optional<Address> address_of(const Value& feature) {
    const Value* geometry = member(feature, "geometry");
    const Value* coordinates = geometry != nullptr ? member(*geometry, "coordinates") : nullptr;
    const Value* properties = member(feature, "properties");
    if (coordinates == nullptr || !coordinates->IsArray() || coordinates->Size() < 2 ||
        !(*coordinates)[0].IsNumber() || !(*coordinates)[1].IsNumber() || properties == nullptr ||
        !properties->IsObject()) {
        return std::nullopt;
    }
    const double lon = (*coordinates)[0].GetDouble();
    const double lat = (*coordinates)[1].GetDouble();
    if (!std::isfinite(lat) || !std::isfinite(lon) || std::abs(lat) > 90 || std::abs(lon) > 180) {
        return std::nullopt;
    }
    const Value& p = *properties;
    Address a;
    a.ban_id = text(p, "id");
    a.type = text(p, "type");
    a.house_number = text(p, "housenumber");
    a.postcode = text(p, "postcode");
    a.citycode = text(p, "citycode");
    a.city = text(p, "city");
    a.road = text(p, "street");
    const std::string name = text(p, "name");
    if (a.road.empty() && (a.type == "street" || a.type == "locality")) {
        a.road = name;
    }
    a.label = text(p, "label");
    if (a.label.empty()) {
        // Older or partial answers: the label the geocoder would have made.
        for (const std::string* part :
             std::initializer_list<const std::string*>{&name, &a.postcode, &a.city}) {
            if (!part->empty()) {
                a.label += (a.label.empty() ? "" : " ") + *part;
            }
        }
    }
    a.lat = degrees_text(lat);
    a.lon = degrees_text(lon);
    return a;
}

std::optional<Street> street_of(const Value& feature) {
    const Value* properties = member(feature, "properties");
    if (properties == nullptr || !properties->IsObject()) {
        return std::nullopt;
    }
    const Value& p = *properties;
    const std::string type = text(p, "type");
    if (!type.empty() && type != "street") {
        return std::nullopt;
    }
    Street s{text(p, "id"), text(p, "street"), text(p, "postcode"), text(p, "citycode"),
             text(p, "city")};
    if (s.name.empty()) {
        s.name = text(p, "name");
    }
    if (s.name.empty()) {
        return std::nullopt;
    }
    return s;
}

/// The features of a GeoCodeJSON FeatureCollection, or null.
const Value* features_of(const rapidjson::Document& doc) {
    const Value* features = member(doc, "features");
    return features != nullptr && features->IsArray() ? features : nullptr;
}

/// The JSON array of an API Geo answer, or null.
const Value* array_of(const rapidjson::Document& doc) {
    return doc.IsArray() ? &doc : nullptr;
}

/// `code` and `nom` of an API Geo item, both required, clean and bounded.
bool code_and_name(const Value& item, std::string& code, std::string& name) {
    code = text(item, "code");
    name = text(item, "nom");
    return !code.empty() && !name.empty() && is_clean_text(code, max_short_bytes) &&
           is_clean_text(name, max_name_bytes);
}

/// The distinct postal codes of an API Geo commune, in its order, at most
/// max_zipcodes_per_city of them.
std::vector<std::string_view> zipcodes_of(const Value& commune) {
    std::vector<std::string_view> zipcodes;
    const Value* listed = member(commune, "codesPostaux");
    if (listed == nullptr || !listed->IsArray()) {
        return zipcodes;
    }
    for (const Value& z : listed->GetArray()) {
        if (zipcodes.size() == max_zipcodes_per_city) {
            break;
        }
        if (!z.IsString()) {
            continue;
        }
        const std::string_view zipcode(z.GetString(), z.GetStringLength());
        if (is_zipcode(zipcode) && std::ranges::find(zipcodes, zipcode) == zipcodes.end()) {
            zipcodes.push_back(zipcode);
        }
    }
    return zipcodes;
}

void field(std::string& out, std::string_view name, std::string_view value) {
    out += ',';
    append_json_string(out, name);
    out += ':';
    append_json_string(out, value);
}

/// Leaves the field out when empty, as Passerelle leaves out properties
/// the geocoder did not give.
void optional_field(std::string& out, std::string_view name, std::string_view value) {
    if (!value.empty()) {
        field(out, name, value);
    }
}

template <typename Item, typename Read>
std::optional<std::vector<Item>> read_each(std::string_view json,
                                           const Value* (*items_of)(const rapidjson::Document&),
                                           Read read) {
    rapidjson::Document doc;
    if (!parse_untrusted_json(json, doc)) {
        return std::nullopt;
    }
    const Value* items = items_of(doc);
    if (items == nullptr) {
        return std::nullopt;
    }
    std::vector<Item> out;
    for (const Value& item : items->GetArray()) {
        read(item, out);
    }
    return out;
}

}  // namespace

std::optional<std::vector<Address>> read_addresses(std::string_view geocode_json) {
    return read_each<Address>(geocode_json, features_of,
                              [](const Value& feature, std::vector<Address>& out) {
                                  if (auto a = address_of(feature)) {
                                      out.push_back(std::move(*a));
                                  }
                              });
}

std::optional<std::vector<Street>> read_streets(std::string_view geocode_json) {
    return read_each<Street>(geocode_json, features_of,
                             [](const Value& feature, std::vector<Street>& out) {
                                 if (auto s = street_of(feature)) {
                                     out.push_back(std::move(*s));
                                 }
                             });
}

std::optional<std::vector<City>> read_cities(std::string_view api_geo_json) {
    return read_each<City>(api_geo_json, array_of, [](const Value& item, std::vector<City>& out) {
        City c;
        if (out.size() == max_city_items || !code_and_name(item, c.code, c.name) ||
            !is_citycode(c.code)) {
            return;
        }
        if (const Value* p = member(item, "population"); p != nullptr && p->IsInt64()) {
            c.population = p->GetInt64();
        }
        c.department_code = text(item, "codeDepartement");
        c.region_code = text(item, "codeRegion");
        if (const Value* d = member(item, "departement")) {
            c.department_name = text(*d, "nom");
        }
        if (const Value* r = member(item, "region")) {
            c.region_name = text(*r, "nom");
        }
        if (!is_clean_text(c.department_code, max_short_bytes) ||
            !is_clean_text(c.department_name, max_name_bytes) ||
            !is_clean_text(c.region_code, max_short_bytes) ||
            !is_clean_text(c.region_name, max_name_bytes)) {
            return;
        }
        const std::vector<std::string_view> zipcodes = zipcodes_of(item);
        if (zipcodes.empty()) {
            out.push_back(std::move(c));
            return;
        }
        for (const std::string_view zipcode : zipcodes) {
            if (out.size() == max_city_items) {
                break;
            }
            out.push_back(c);
            out.back().zipcode = zipcode;
        }
    });
}

std::optional<std::vector<Department>> read_departments(std::string_view api_geo_json) {
    return read_each<Department>(api_geo_json, array_of,
                                 [](const Value& item, std::vector<Department>& out) {
                                     Department d;
                                     if (!code_and_name(item, d.code, d.name)) {
                                         return;
                                     }
                                     d.region_code = text(item, "codeRegion");
                                     if (is_clean_text(d.region_code, max_short_bytes)) {
                                         out.push_back(std::move(d));
                                     }
                                 });
}

std::optional<std::vector<Region>> read_regions(std::string_view api_geo_json) {
    return read_each<Region>(api_geo_json, array_of,
                             [](const Value& item, std::vector<Region>& out) {
                                 Region r;
                                 if (code_and_name(item, r.code, r.name)) {
                                     out.push_back(std::move(r));
                                 }
                             });
}

void write_address(std::string& out, const Address& a, std::string_view id) {
    out += "{\"id\":";
    append_json_string(out, id);
    field(out, "text", a.label);
    field(out, "display_name", a.label);
    field(out, "lat", a.lat);
    field(out, "lon", a.lon);
    optional_field(out, "type", a.type);
    optional_field(out, "ban_id", a.ban_id);
    out += ",\"address\":{";
    const std::size_t start = out.size();
    optional_field(out, "road", a.road);
    optional_field(out, "house_number", a.house_number);
    optional_field(out, "postcode", a.postcode);
    optional_field(out, "city", a.city);
    optional_field(out, "citycode", a.citycode);
    field(out, "country", "France");
    out.erase(start, 1);  // the first field's comma
    out += "}}";
}

std::string address_list(const std::vector<Address>& addresses, const IdCodec& ids,
                         std::size_t limit) {
    std::string out = "[";
    std::size_t count = 0;
    for (const Address& a : addresses) {
        if (count == limit) {
            break;
        }
        if (const auto id = ids.encode(a)) {
            out += count++ == 0 ? "" : ",";
            write_address(out, a, *id);
        }
    }
    out += ']';
    return out;
}

std::string reverse_object(const std::vector<Address>& addresses, const IdCodec& ids) {
    for (const Address& a : addresses) {
        if (const auto id = ids.encode(a)) {
            std::string out;
            write_address(out, a, *id);
            return out;
        }
    }
    return R"({"error":"Unable to geocode"})";
}

std::string street_list(const std::vector<Street>& streets, const IdCodec& ids, std::size_t limit) {
    std::string out = "[";
    std::size_t count = 0;
    for (const Street& s : streets) {
        if (count == limit) {
            break;
        }
        const auto id = ids.encode(s);
        if (!id) {
            continue;
        }
        out += count++ == 0 ? "{\"id\":" : ",{\"id\":";
        append_json_string(out, *id);
        field(out, "text", s.name);
        field(out, "type", "street");
        optional_field(out, "city", s.city);
        optional_field(out, "citycode", s.citycode);
        optional_field(out, "zipcode", s.postcode);
        optional_field(out, "ban_id", s.ban_id);
        out += '}';
    }
    out += ']';
    return out;
}

std::string city_list(const std::vector<City>& cities) {
    std::string out = "[";
    for (const City& c : cities) {
        out += out.size() == 1 ? "{\"id\":" : ",{\"id\":";
        append_json_string(out, c.zipcode.empty() ? c.code : c.code + "." + c.zipcode);
        field(out, "text", c.zipcode.empty() ? c.name : c.zipcode + " " + c.name);
        field(out, "code", c.code);
        field(out, "name", c.name);
        optional_field(out, "zipcode", c.zipcode);
        if (c.population) {
            out += ",\"population\":" + std::to_string(*c.population);
        }
        optional_field(out, "department_code", c.department_code);
        optional_field(out, "department_name", c.department_name);
        optional_field(out, "region_code", c.region_code);
        optional_field(out, "region_name", c.region_name);
        out += '}';
    }
    out += ']';
    return out;
}

std::string department_list(const std::vector<Department>& departments) {
    std::string out = "[";
    for (const Department& d : departments) {
        out += out.size() == 1 ? "{\"id\":" : ",{\"id\":";
        append_json_string(out, d.code);
        field(out, "text", d.code + " - " + d.name);
        field(out, "code", d.code);
        field(out, "name", d.name);
        optional_field(out, "region_code", d.region_code);
        out += '}';
    }
    out += ']';
    return out;
}

std::string region_list(const std::vector<Region>& regions) {
    std::string out = "[";
    for (const Region& r : regions) {
        out += out.size() == 1 ? "{\"id\":" : ",{\"id\":";
        append_json_string(out, r.code);
        field(out, "text", r.code + " - " + r.name);
        field(out, "code", r.code);
        field(out, "name", r.name);
        out += '}';
    }
    out += ']';
    return out;
}

}  // namespace relais::base_adresse
