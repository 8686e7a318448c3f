// Upstream answers (GeoCodeJSON, API Geo) into Passerelle's shapes, and the
// upstream requests built from a call.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>

#include "base-adresse/geo_answers.hpp"
#include "base-adresse/geo_requests.hpp"

using namespace relais::base_adresse;

namespace {

const char* const geocode = R"({
  "type": "FeatureCollection", "version": "draft", "query": "8 bd du palais",
  "features": [
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.3488, 48.8534]},
     "properties": {"label": "8 Boulevard du Palais 75004 Paris", "score": 0.89,
                    "housenumber": "8", "id": "75104_0318_00008", "name": "8 Boulevard du Palais",
                    "postcode": "75004", "citycode": "75104", "x": 652089.7, "y": 6862305.26,
                    "city": "Paris", "district": "Paris 4e Arrondissement",
                    "context": "75, Paris, Île-de-France", "type": "housenumber",
                    "importance": 0.6, "street": "Boulevard du Palais"}},
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.35, 48.85]},
     "properties": {"name": "Rue Sans Label", "type": "street", "postcode": "75004",
                    "city": "Paris", "citycode": null}},
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.35]},
     "properties": {"label": "no point"}},
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.35, 95]},
     "properties": {"label": "out of range"}},
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [0.00001, 45]},
     "properties": {"label": "Lieu-dit", "type": "locality", "name": "Le Bourg"}},
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}},
    "not a feature"
  ]})";

rapidjson::Document parsed(const std::string& json) {
    rapidjson::Document doc;
    doc.Parse(json.c_str());
    EXPECT_FALSE(doc.HasParseError()) << json;
    return doc;
}

/// An API Geo commune whose `codesPostaux` is `zipcodes`, joined.
std::string commune(const std::string& name, const std::string& zipcodes,
                    const std::string& department = "Loire") {
    return R"({"code": "42218", "nom": ")" + name + R"(", "codesPostaux": [)" + zipcodes +
           R"(], "departement": {"nom": ")" + department + R"("}})";
}

std::string repeated(const std::string& text, std::size_t times) {
    std::string out;
    for (std::size_t i = 0; i < times; ++i) {
        out += (i == 0 ? "" : ",") + text;
    }
    return out;
}

/// Items read from an API Geo answer (throws when it is refused).
std::size_t city_count(const std::string& json) {
    return read_cities(json).value().size();
}

}  // namespace

TEST(BaseAdresseAnswers, GeocodeJsonToAddresses) {
    const auto addresses = read_addresses(geocode);
    ASSERT_TRUE(addresses);
    ASSERT_EQ(addresses->size(), 3u);
    const Address& a = (*addresses)[0];
    EXPECT_EQ(a.label, "8 Boulevard du Palais 75004 Paris");
    EXPECT_EQ(a.ban_id, "75104_0318_00008");
    EXPECT_EQ(a.house_number, "8");
    EXPECT_EQ(a.road, "Boulevard du Palais");
    EXPECT_EQ(a.postcode, "75004");
    EXPECT_EQ(a.citycode, "75104");
    EXPECT_EQ(a.city, "Paris");
    EXPECT_EQ(a.lat, "48.8534");
    EXPECT_EQ(a.lon, "2.3488");
    // Missing label: made from name, postcode and city; a street's name is its road.
    EXPECT_EQ((*addresses)[1].label, "Rue Sans Label 75004 Paris");
    EXPECT_EQ((*addresses)[1].road, "Rue Sans Label");
    EXPECT_EQ((*addresses)[1].citycode, "");
    EXPECT_EQ((*addresses)[2].lon, "0.00001");
    EXPECT_EQ((*addresses)[2].road, "Le Bourg");
}

TEST(BaseAdresseAnswers, UnexpectedShapesAreRefused) {
    EXPECT_FALSE(read_addresses("<html>"));
    EXPECT_FALSE(read_addresses("[]"));
    EXPECT_FALSE(read_addresses(R"({"features": {}})"));
    EXPECT_FALSE(read_addresses(R"({"features": []} trailing)"));
    EXPECT_FALSE(read_addresses(std::string(100000, '[')));
    EXPECT_TRUE(read_addresses(R"({"type": "FeatureCollection", "features": []})"));
    EXPECT_FALSE(read_cities(R"({"nom": "Paris"})"));
    EXPECT_FALSE(read_departments("null"));
    EXPECT_FALSE(read_regions("{\"a\": \"\xff\"}"));
}

TEST(BaseAdresseAnswers, NominatimShape) {
    const IdCodec ids("an id key of thirty-two bytes....");
    const auto addresses = read_addresses(geocode);
    const auto list = parsed(address_list(*addresses, ids, 2));
    ASSERT_TRUE(list.IsArray());
    ASSERT_EQ(list.Size(), 2u);
    const auto& first = list[0];
    EXPECT_STREQ(first["display_name"].GetString(), "8 Boulevard du Palais 75004 Paris");
    EXPECT_STREQ(first["text"].GetString(), "8 Boulevard du Palais 75004 Paris");
    EXPECT_STREQ(first["lat"].GetString(), "48.8534");
    EXPECT_STREQ(first["lon"].GetString(), "2.3488");
    EXPECT_STREQ(first["ban_id"].GetString(), "75104_0318_00008");
    EXPECT_EQ(ids.decode_address(first["id"].GetString()), (*addresses)[0]);
    const auto& address = first["address"];
    EXPECT_STREQ(address["road"].GetString(), "Boulevard du Palais");
    EXPECT_STREQ(address["house_number"].GetString(), "8");
    EXPECT_STREQ(address["postcode"].GetString(), "75004");
    EXPECT_STREQ(address["city"].GetString(), "Paris");
    EXPECT_STREQ(address["citycode"].GetString(), "75104");
    EXPECT_STREQ(address["country"].GetString(), "France");
    EXPECT_FALSE(list[1]["address"].HasMember("house_number"));
    EXPECT_FALSE(list[1]["address"].HasMember("citycode"));

    const auto reverse = parsed(reverse_object(*addresses, ids));
    EXPECT_STREQ(reverse["display_name"].GetString(), "8 Boulevard du Palais 75004 Paris");
    EXPECT_EQ(reverse_object({}, ids), R"({"error":"Unable to geocode"})");
    EXPECT_EQ(address_list({}, ids, 5), "[]");
}

TEST(BaseAdresseAnswers, Streets) {
    const IdCodec ids("an id key of thirty-two bytes....");
    const auto streets = read_streets(R"({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.3, 48.8]},
         "properties": {"id": "75104_0318", "name": "Boulevard du Palais", "type": "street",
                        "postcode": "75004", "citycode": "75104", "city": "Paris"}},
        {"type": "Feature", "properties": {"name": "8 Rue X", "type": "housenumber"}},
        {"type": "Feature", "properties": {"type": "street"}}]})");
    ASSERT_TRUE(streets);
    ASSERT_EQ(streets->size(), 1u);
    const auto list = parsed(street_list(*streets, ids, 5));
    ASSERT_EQ(list.Size(), 1u);
    EXPECT_STREQ(list[0]["text"].GetString(), "Boulevard du Palais");
    EXPECT_STREQ(list[0]["zipcode"].GetString(), "75004");
    EXPECT_STREQ(list[0]["citycode"].GetString(), "75104");
    EXPECT_STREQ(list[0]["city"].GetString(), "Paris");
    EXPECT_STREQ(list[0]["type"].GetString(), "street");
    EXPECT_EQ(ids.decode_street(list[0]["id"].GetString()), (*streets)[0]);
}

TEST(BaseAdresseAnswers, ApiGeoCities) {
    const auto cities = read_cities(R"([
        {"nom": "Paris", "code": "75056", "codesPostaux": ["75001", "75002"],
         "codeDepartement": "75", "codeRegion": "11", "population": 2133111,
         "departement": {"code": "75", "nom": "Paris"},
         "region": {"code": "11", "nom": "Île-de-France"}},
        {"nom": "Sans code postal", "code": "2A004"},
        {"nom": "Code invalide", "code": "7505"},
        {"code": "75057"}])");
    ASSERT_TRUE(cities);
    ASSERT_EQ(cities->size(), 3u);
    const auto list = parsed(city_list(*cities));
    EXPECT_STREQ(list[0]["id"].GetString(), "75056.75001");
    EXPECT_STREQ(list[0]["text"].GetString(), "75001 Paris");
    EXPECT_STREQ(list[0]["code"].GetString(), "75056");
    EXPECT_STREQ(list[0]["name"].GetString(), "Paris");
    EXPECT_STREQ(list[0]["zipcode"].GetString(), "75001");
    EXPECT_EQ(list[0]["population"].GetInt64(), 2133111);
    EXPECT_STREQ(list[0]["department_code"].GetString(), "75");
    EXPECT_STREQ(list[0]["department_name"].GetString(), "Paris");
    EXPECT_STREQ(list[0]["region_code"].GetString(), "11");
    EXPECT_STREQ(list[0]["region_name"].GetString(), "Île-de-France");
    EXPECT_STREQ(list[1]["id"].GetString(), "75056.75002");
    EXPECT_STREQ(list[2]["id"].GetString(), "2A004");
    EXPECT_STREQ(list[2]["text"].GetString(), "Sans code postal");
    EXPECT_FALSE(list[2].HasMember("population"));
}

TEST(BaseAdresseAnswers, HostileCitiesStayProportionalToTheAnswer) {
    // A postal code repeated: one item per distinct code.
    const std::string repeats =
        "[" + commune("Saint-Étienne", repeated(R"("42000")", 2000) + R"(,"42100","42000")") + "]";
    auto cities = read_cities(repeats);
    ASSERT_TRUE(cities);
    ASSERT_EQ(cities->size(), 2u);
    EXPECT_EQ((*cities)[0].zipcode, "42000");
    EXPECT_EQ((*cities)[1].zipcode, "42100");
    EXPECT_LT(city_list(*cities).size(), repeats.size());

    // More distinct codes than a commune has: the first ones only.
    std::string distinct;
    for (int code = 10000; code < 10200; ++code) {
        distinct += (distinct.empty() ? "\"" : ",\"") + std::to_string(code) + "\"";
    }
    cities = read_cities("[" + commune("Saint-Étienne", distinct) + "]");
    ASSERT_TRUE(cities);
    ASSERT_EQ(cities->size(), max_zipcodes_per_city);
    EXPECT_EQ(cities->back().zipcode, std::to_string(10000 + max_zipcodes_per_city - 1));

    // Names beyond the bound of ids' names leave their commune out.
    const std::string longest(max_name_bytes, 'A');
    const std::string longer(max_name_bytes + 1, 'A');
    EXPECT_EQ(
        city_count("[" + commune(std::string(20000, 'A'), repeated(R"("42000")", 2000)) + "]"), 0u);
    EXPECT_EQ(city_count("[" + commune(longer, R"("42000")") + "]"), 0u);
    EXPECT_EQ(city_count("[" + commune("Saint-Étienne", R"("42000")", longer) + "]"), 0u);
    EXPECT_EQ(city_count(R"([{"code": "42218", "nom": "Saint-Étienne", "region": {"nom": ")" +
                         longer + R"("}}])"),
              0u);
    EXPECT_EQ(city_count(R"([{"code": "42218", "nom": "Saint-Étienne", "codeDepartement": ")" +
                         std::string(max_short_bytes + 1, '4') + R"("}])"),
              0u);
    EXPECT_EQ(city_count("[" + commune(longest, R"("42000")", longest) + "]"), 1u);

    // However many communes, at most max_city_items items.
    const std::size_t communes = max_city_items / max_zipcodes_per_city + 10;
    cities = read_cities("[" + repeated(commune("Saint-Étienne", distinct), communes) + "]");
    ASSERT_TRUE(cities);
    EXPECT_EQ(cities->size(), max_city_items);
}

TEST(BaseAdresseAnswers, ApiGeoDepartmentsAndRegions) {
    // relais asks for codeRegion only: a region given anyway is not passed on.
    const auto departments = read_departments(
        R"([{"nom": "Corse-du-Sud", "code": "2A", "codeRegion": "94", "region": {"nom": "Corse"}},
            {"nom": "x"}])");
    ASSERT_TRUE(departments);
    EXPECT_EQ(
        department_list(*departments),
        R"([{"id":"2A","text":"2A - Corse-du-Sud","code":"2A","name":"Corse-du-Sud","region_code":"94"}])");
    const auto regions = read_regions(R"([{"nom": "Corse", "code": "94"}])");
    ASSERT_TRUE(regions);
    EXPECT_EQ(region_list(*regions),
              R"([{"id":"94","text":"94 - Corse","code":"94","name":"Corse"}])");
}

TEST(BaseAdresseRequests, GeocoderTargetsEscapeValues) {
    Query q;
    q.q = "8 bd du palais&limit=1000#x";
    q.zipcode = "75004";
    q.point = Point{48.5, -2.25};
    q.page_limit = 7;
    EXPECT_EQ(
        geocoder_target(Endpoint::search, q),
        "search?q=8+bd+du+palais%26limit%3D1000%23x&limit=7&postcode=75004&lat=48.5&lon=-2.25");
    EXPECT_EQ(geocoder_target(Endpoint::streets, q),
              "search?q=8+bd+du+palais%26limit%3D1000%23x&type=street&limit=7&postcode=75004");
    EXPECT_EQ(geocoder_target(Endpoint::reverse, q), "reverse?lat=48.5&lon=-2.25&limit=1");
}

TEST(BaseAdresseRequests, ApiGeoTargets) {
    Query q;
    q.q = "Saint-Étienne";
    q.department_code = "42";
    EXPECT_EQ(api_geo_target(Endpoint::cities, q),
              "communes?nom=Saint-%C3%89tienne&codeDepartement=42&fields=nom%2Ccode%2CcodesPostaux%"
              "2CcodeDepartement%2CcodeRegion%2Cpopulation%2Cdepartement%2Cregion");
    q = Query{};
    q.q = "42000";
    EXPECT_TRUE(api_geo_target(Endpoint::cities, q).starts_with("communes?codePostal=42000&"));
    q = Query{};
    q.id = "42218.42100";
    EXPECT_TRUE(api_geo_target(Endpoint::cities, q).starts_with("communes?code=42218&fields="));
    q = Query{};
    q.q = "2A";
    EXPECT_TRUE(api_geo_target(Endpoint::departments, q).starts_with("departements?code=2A&"));
    q.q = "Loire";
    q.region_code = "84";
    EXPECT_EQ(api_geo_target(Endpoint::departments, q),
              "departements?nom=Loire&codeRegion=84&fields=nom%2Ccode%2CcodeRegion");
    q = Query{};
    EXPECT_EQ(api_geo_target(Endpoint::regions, q), "regions?fields=nom%2Ccode");
}

TEST(BaseAdresseRequests, CityIdsAndCacheKeys) {
    EXPECT_TRUE(parse_city_id("75056.75001"));
    EXPECT_TRUE(parse_city_id("2A004"));
    EXPECT_FALSE(parse_city_id("75056."));
    EXPECT_FALSE(parse_city_id("75056.7500"));
    EXPECT_FALSE(parse_city_id("x.75001"));
    Query a;
    a.q = "ab";
    Query b;
    b.id = "ab";
    EXPECT_NE(cache_key(Endpoint::cities, a), cache_key(Endpoint::cities, b));
    EXPECT_NE(cache_key(Endpoint::cities, a), cache_key(Endpoint::regions, a));
    EXPECT_EQ(cache_key(Endpoint::cities, a), cache_key(Endpoint::cities, a));
}
