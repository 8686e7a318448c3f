#include "base-adresse/geo_requests.hpp"

#include <charconv>

#include "core/url_encoding.hpp"

namespace relais::base_adresse {

namespace {

constexpr std::string_view commune_fields =
    "nom,code,codesPostaux,codeDepartement,codeRegion,population,departement,region";
constexpr std::string_view department_fields = "nom,code,codeRegion";
constexpr std::string_view region_fields = "nom,code";

class Target {
public:
    explicit Target(std::string_view path) : text_(path) {}

    /// Adds `name=value` unless `value` is empty.
    Target& add(std::string_view name, std::string_view value) {
        if (!value.empty()) {
            text_ += first_ ? '?' : '&';
            first_ = false;
            text_ += name;
            text_ += '=';
            append_form_encoded(text_, value);
        }
        return *this;
    }

    Target& add(std::string_view name, double degrees) {
        char buf[64];
        const auto r = std::to_chars(buf, buf + sizeof buf, degrees, std::chars_format::fixed);
        return add(name, std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
    }

    Target& add_point(const std::optional<Point>& point) {
        if (point) {
            add("lat", point->lat);
            add("lon", point->lon);
        }
        return *this;
    }

    std::string take() { return std::move(text_); }

private:
    std::string text_;
    bool first_ = true;
};

}  // namespace

std::optional<CityId> parse_city_id(std::string_view id) {
    const auto dot = id.find('.');
    CityId parsed{std::string(id.substr(0, dot)),
                  dot == std::string_view::npos ? std::string() : std::string(id.substr(dot + 1))};
    if (!is_citycode(parsed.code) ||
        (dot != std::string_view::npos && !is_zipcode(parsed.zipcode))) {
        return std::nullopt;
    }
    return parsed;
}

std::string geocoder_target(Endpoint endpoint, const Query& query) {
    const std::string limit = std::to_string(query.page_limit);
    switch (endpoint) {
        case Endpoint::reverse:
            return Target("reverse").add_point(query.point).add("limit", "1").take();
        case Endpoint::streets:
            return Target("search")
                .add("q", query.q)
                .add("type", "street")
                .add("limit", limit)
                .add("postcode", query.zipcode)
                .take();
        default:
            return Target("search")
                .add("q", query.q)
                .add("limit", limit)
                .add("postcode", query.zipcode)
                .add("citycode", query.citycode)
                .add_point(query.point)
                .take();
    }
}

std::string api_geo_target(Endpoint endpoint, const Query& query) {
    switch (endpoint) {
        case Endpoint::cities: {
            Target t("communes");
            if (const auto id = parse_city_id(query.id)) {
                t.add("code", id->code);
            } else {
                t.add("code", query.citycode);
                t.add(is_zipcode(query.q) ? "codePostal" : "nom", query.q);
                t.add("codeDepartement", query.department_code);
                t.add("codeRegion", query.region_code);
            }
            return t.add("fields", commune_fields).take();
        }
        case Endpoint::departments: {
            Target t("departements");
            if (!query.id.empty()) {
                t.add("code", query.id);
            } else {
                t.add(is_department_code(query.q) ? "code" : "nom", query.q);
            }
            return t.add("codeRegion", query.region_code).add("fields", department_fields).take();
        }
        default: {
            Target t("regions");
            if (!query.id.empty()) {
                t.add("code", query.id);
            } else {
                t.add(is_region_code(query.q) ? "code" : "nom", query.q);
            }
            return t.add("fields", region_fields).take();
        }
    }
}

std::string cache_key(Endpoint endpoint, const Query& query) {
    std::string key(name_of(endpoint));
    // Fields hold no control characters: the separator cannot be forged.
    for (const std::string* field : {&query.q, &query.id, &query.zipcode, &query.citycode,
                                     &query.department_code, &query.region_code}) {
        key += '\x1f';
        key += *field;
    }
    key += '\x1f';
    key += std::to_string(query.page_limit);
    return key;
}

}  // namespace relais::base_adresse
