// Mapping upstream answers into the envelope's data, and the answer cache.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <thread>
#include <vector>

#include "core/response_cache.hpp"
#include "rest/body_json.hpp"
#include "rest/response_mapping.hpp"
#include "rest_test_support.hpp"

using namespace relais;
using namespace relais::rest;
using namespace std::chrono_literals;

namespace {

const char* const geocode = R"({
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.3488, 48.8534]},
         "properties": {"id": "75104_1", "label": "8 Boulevard du Palais 75004 Paris", "score": 0.9}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.35, 48.85]},
         "properties": {"label": "Rue sans id"}}
    ]
})";

std::string map(const ResponseMapping& mapping, const char* answer) {
    std::string text = answer;
    std::string out;
    const auto error = mapping.apply(text, out);
    EXPECT_FALSE(error) << (error ? error->description : "");
    return out;
}

/// The mapping's error on `answer`, or "" if it maps.
std::string map_error(const ResponseMapping& mapping, std::string answer) {
    std::string out = "left over";
    const auto error = mapping.apply(answer, out);
    if (!error) {
        return "";
    }
    EXPECT_EQ(error->error, ErrorClass::upstream_invalid_response);
    EXPECT_EQ(out, "") << "a failed mapping leaves no output";
    return error->description;
}

}  // namespace

TEST(RestMapping, ListWithFieldsAndMissingFieldsAsNull) {
    const ResponseMapping mapping("/features", true,
                                  {{"id", "/properties/id"},
                                   {"text", "/properties/label"},
                                   {"lat", "/geometry/coordinates/1"},
                                   {"lon", "/geometry/coordinates/0"}});
    EXPECT_EQ(
        map(mapping, geocode),
        R"([{"id":"75104_1","text":"8 Boulevard du Palais 75004 Paris","lat":48.8534,"lon":2.3488},)"
        R"({"id":null,"text":"Rue sans id","lat":48.85,"lon":2.35}])");
}

TEST(RestMapping, DataPointerWithoutFieldsPassesThrough) {
    EXPECT_EQ(map(ResponseMapping("/features/0/geometry", false, {}), geocode),
              R"({"type":"Point","coordinates":[2.3488,48.8534]})");
    EXPECT_EQ(map(ResponseMapping("", false, {}), R"([1, "a", null])"), R"([1,"a",null])");
    EXPECT_EQ(map(ResponseMapping(), R"("just a string")"), R"("just a string")");
}

TEST(RestMapping, SingleObjectWithFields) {
    const ResponseMapping mapping("/features/0", false,
                                  {{"label", "/properties/label"}, {"whole", ""}, {"none", "/x"}});
    const std::string out = map(mapping, geocode);
    EXPECT_EQ(
        out.rfind(R"({"label":"8 Boulevard du Palais 75004 Paris","whole":{"type":"Feature")", 0),
        0u)
        << out;
    EXPECT_NE(out.find(R"("none":null})"), std::string::npos);
}

TEST(RestMapping, ShapeErrorsAreUpstreamInvalidResponse) {
    EXPECT_EQ(map_error(ResponseMapping("/nothing", false, {}), geocode),
              "the upstream answer has no value at /nothing");
    EXPECT_EQ(map_error(ResponseMapping("/type", true, {}), geocode),
              "the upstream answer has no array at /type");
    EXPECT_EQ(map_error(ResponseMapping("/features", true, {{"id", "/id"}}), R"({"features": {}})"),
              "the upstream answer has no array at /features");
    EXPECT_EQ(map_error(ResponseMapping("", true, {}), R"({"a": [1]})"),
              "the upstream answer has no array at the root");
    EXPECT_EQ(map_error(ResponseMapping("/features/5", false, {}), geocode),
              "the upstream answer has no value at /features/5");
}

TEST(RestMapping, AnswersThatAreNotJsonAreRefusedWhateverTheirShape) {
    const ResponseMapping mapping("/features", true, {{"id", "/properties/id"}});
    const std::string not_json = "the upstream answer is not JSON";
    // The data is found before the text goes wrong: still not JSON.
    EXPECT_EQ(map_error(mapping, R"({"features": [{"properties": {"id": 1}}], )"), not_json);
    EXPECT_EQ(map_error(mapping, R"({"features": [{"properties": {"id": 1}}]} x)"), not_json);
    EXPECT_EQ(map_error(mapping, "{\"features\": [\"\xff\"]}"), not_json);
    EXPECT_EQ(map_error(mapping, std::string("{\"features\": []}\0", 17)), not_json);
    EXPECT_EQ(map_error(mapping, "<html>"), not_json);
    EXPECT_EQ(map_error(mapping, ""), not_json);
    // Integers beyond 64 bits and numbers beyond a double's range.
    EXPECT_EQ(map_error(mapping, R"({"features": [123456789012345678901234567890]})"), not_json);
    EXPECT_EQ(map_error(mapping, R"({"features": [-9223372036854775809]})"), not_json);
    EXPECT_EQ(map_error(mapping, R"({"features": [1e400]})"), not_json);
    // Nesting: a value inside max_json_depth arrays maps, one more does not.
    const auto nested = [](unsigned levels) {
        return std::string(levels, '[') + "1" + std::string(levels, ']');
    };
    EXPECT_EQ(map_error(ResponseMapping("", false, {}), nested(max_json_depth)), "");
    EXPECT_EQ(map_error(ResponseMapping("", false, {}), nested(max_json_depth + 1)), not_json);
}

TEST(RestMapping, AnswersLargerThanTheParsersRoomMapAndLimitsStay) {
    // Over the 256 KiB the thread's parser keeps room for.
    std::string large = R"({"features": [)";
    for (int i = 0; i < 20000; ++i) {
        large += (i ? "," : "") + std::string(R"({"id": )") + std::to_string(i) + "}";
    }
    large += "]}";
    ASSERT_GT(large.size(), 256u * 1024);
    const ResponseMapping item("/features/19999", false, {{"id", "/id"}});
    EXPECT_EQ(map(item, large.c_str()), R"({"id":19999})");
    // The depth limit holds for a large answer too, and after one.
    const auto nested = [](unsigned levels) {
        return std::string(levels, '[') + '"' + std::string(300 * 1024, 'x') + '"' +
               std::string(levels, ']');
    };
    const ResponseMapping whole("", false, {});
    EXPECT_EQ(map_error(whole, nested(max_json_depth + 1)), "the upstream answer is not JSON");
    EXPECT_EQ(map_error(whole, nested(max_json_depth)), "");
    EXPECT_EQ(map_error(whole, "[" + std::string(max_json_depth, '[') + "{}" +
                                   std::string(max_json_depth, ']') + "]"),
              "the upstream answer is not JSON");
    EXPECT_EQ(map(item, large.c_str()), R"({"id":19999})");
}

TEST(RestMapping, FieldsAreWrittenInTheDeclaredOrderWhateverTheAnswersOrder) {
    EXPECT_EQ(map(ResponseMapping("", true, {{"b", "/b"}, {"a", "/a"}, {"c", "/c/0"}}),
                  R"([{"c": [3, 4], "a": 1, "b": 2}, {"a": {"x": [1, {"y": null}]}}])"),
              R"([{"b":2,"a":1,"c":3},{"b":null,"a":{"x":[1,{"y":null}]},"c":null}])");
}

TEST(RestMapping, OverlappingFieldsAndNestedItems) {
    // One field inside another, and the same value under two names.
    EXPECT_EQ(map(ResponseMapping("/d", true, {{"p", "/p"}, {"q", "/p/q"}, {"again", "/p/q"}}),
                  R"({"x": [{"p": 0}], "d": [{"p": {"q": [true, "s\"t"]}}, [], "z"]})"),
              R"([{"p":{"q":[true,"s\"t"]},"q":[true,"s\"t"],"again":[true,"s\"t"]},)"
              R"({"p":null,"q":null,"again":null},{"p":null,"q":null,"again":null}])");
    // Items inside items: only the data's own elements are items.
    EXPECT_EQ(map(ResponseMapping("", true, {{"first", "/0"}}), R"([[[1], 2], [], [[]]])"),
              R"([{"first":[1]},{"first":null},{"first":[]}])");
}

TEST(RestMapping, DuplicateNamesTakeTheFirstValue) {
    EXPECT_EQ(
        map(ResponseMapping("/a", false, {{"b", "/b"}}), R"({"a": {"b": 1, "b": 2}, "a": 3})"),
        R"({"b":1})");
    EXPECT_EQ(map(ResponseMapping("/list", true, {}), R"({"list": [1], "list": [2]})"), "[1]");
}

TEST(RestMapping, NumbersAndEscapesAreWrittenBackExactly) {
    EXPECT_EQ(map(ResponseMapping("", false, {}),
                  R"([0, -1, 4294967295, 4294967296, -9223372036854775808,)"
                  R"( 18446744073709551615, 1.5, -0.0, 1e300, "\u00e9\n\ud83d\ude00", "\/"])"),
              "[0,-1,4294967295,4294967296,-9223372036854775808,18446744073709551615,1.5,-0.0,"
              "1e300,\"\u00e9\\n\U0001f600\",\"/\"]");
}

TEST(RestMapping, ItemsThatAreNotObjectsGiveNullFields) {
    EXPECT_EQ(map(ResponseMapping("", true, {{"id", "/id"}, {"self", ""}}), R"([1, {"id": 2}])"),
              R"([{"id":null,"self":1},{"id":2,"self":{"id":2}}])");
}

TEST(RestMapping, PointerEscapes) {
    EXPECT_EQ(
        map(ResponseMapping("", false, {{"a", "/a~1b"}, {"t", "/t~0"}}), R"({"a/b": 1, "t~": 2})"),
        R"({"a":1,"t":2})");
    // Digits name a member inside an object and a position inside an array;
    // a position with a leading zero, "-" or past the end finds nothing.
    EXPECT_EQ(map(ResponseMapping("", true,
                                  {{"one", "/1"},
                                   {"zero", "/01"},
                                   {"end", "/-"},
                                   {"far", "/9"},
                                   {"empty", "/"},
                                   {"deep", "/1/"}}),
                  R"([[10, {"": 11}], {"1": "x", "01": "y", "-": "z", "": "e"}])"),
              R"([{"one":{"":11},"zero":null,"end":null,"far":null,"empty":null,"deep":11},)"
              R"({"one":"x","zero":"y","end":"z","far":null,"empty":"e","deep":null}])");
    EXPECT_THROW(compile_pointer("features"), std::invalid_argument);
    EXPECT_THROW(compile_pointer("/a~2"), std::invalid_argument);
}

TEST(RestMapping, UpstreamJsonIsCheckedBeforeMapping) {
    const auto parses = [](std::string text) {
        rapidjson::Document doc;
        return parse_json(text, doc);
    };
    EXPECT_FALSE(parses("<html>"));
    EXPECT_FALSE(parses("{\"a\": \"\xff\"}"));
    EXPECT_FALSE(parses(std::string(1000, '[')));
    EXPECT_TRUE(parses(std::string(100, '[') + std::string(100, ']')));
}

TEST(RestCache, HitsUntilExpiry) {
    ResponseCache cache(10, 1000ms);
    const auto t0 = ResponseCache::Clock::now();
    EXPECT_FALSE(cache.find("k", t0));
    cache.store("k", "[1]", t0);
    EXPECT_EQ(cache.find("k", t0 + 999ms), "[1]");
    EXPECT_FALSE(cache.find("k", t0 + 1000ms));
    EXPECT_EQ(cache.size(), 0u);
}

TEST(RestCache, EvictsTheLeastRecentlyUsed) {
    ResponseCache cache(2, 1h);
    const auto t = ResponseCache::Clock::now();
    cache.store("a", "1", t);
    cache.store("b", "2", t);
    EXPECT_TRUE(cache.find("a", t));  // b is now the least recently used
    cache.store("c", "3", t);
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_TRUE(cache.find("a", t));
    EXPECT_FALSE(cache.find("b", t));
    EXPECT_TRUE(cache.find("c", t));
    cache.store("a", "updated", t);
    EXPECT_EQ(cache.find("a", t), "updated");
    EXPECT_EQ(cache.size(), 2u);
}

TEST(RestCache, BoundedInBytes) {
    // Room for two entries of a one-byte key and 40 bytes of answer.
    const std::size_t entry = ResponseCache::weight(1, 40);
    ResponseCache cache(100, 1h, 2 * entry + 10);
    const auto t = ResponseCache::Clock::now();
    cache.store("a", std::string(40, 'x'), t);
    cache.store("b", std::string(40, 'x'), t);
    EXPECT_EQ(cache.bytes(), 2 * entry);
    cache.store("c", std::string(40, 'x'), t);  // evicts a
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_FALSE(cache.find("a", t));
    cache.store("huge", std::string(3 * entry, 'x'), t);  // never cached
    EXPECT_FALSE(cache.find("huge", t));
    EXPECT_EQ(cache.size(), 2u);
    cache.store("b", "small", t);
    EXPECT_EQ(cache.bytes(), entry + ResponseCache::weight(1, 5));
}

TEST(RestCache, SmallEntriesCountTheirBookkeeping) {
    // A million tiny answers are not a few megabytes: each entry's nodes
    // count too, so the bound in bytes holds for what the cache takes.
    EXPECT_GE(ResponseCache::weight(64, 2), 64u * 2 + 2 + 150u);
    ResponseCache cache(1'000'000, 1h, 100 * ResponseCache::weight(64, 2));
    const auto t = ResponseCache::Clock::now();
    for (int i = 0; i < 1000; ++i) {
        cache.store(std::string(60, 'k') + std::to_string(1000 + i), "{}", t);
    }
    EXPECT_EQ(cache.size(), 100u);
}

TEST(RestCache, ConcurrentUseStaysBounded) {
    ResponseCache cache(50, 1h);
    std::atomic<int> hits{0};
    // Each thread first cycles over 40 keys (they fit: hits), then over 200
    // (they do not: evictions), all at once with the others.
    auto worker = [&](int t) {
        for (int round = 0; round < 2; ++round) {
            const int keys = round == 0 ? 40 : 200;
            for (int i = 0; i < 2000; ++i) {
                const std::string key = std::to_string((i + t) % keys);
                if (cache.find(key, ResponseCache::Clock::now())) {
                    ++hits;
                } else {
                    cache.store(key, key, ResponseCache::Clock::now());
                }
                EXPECT_LE(cache.size(), 50u);
            }
        }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back(worker, t);
    }
    for (auto& th : threads) {
        th.join();
    }
    EXPECT_EQ(cache.size(), 50u);
    EXPECT_GT(hits.load(), 0);
}

TEST(RestCache, KeyIsTheCanonicalParameterValues) {
    using relais::rest::test_support::load_endpoint;
    using relais::rest::test_support::make_request;
    using relais::rest::test_support::prepare_ok;
    const auto c = load_endpoint(R"({
        "personal_data": false, "cache_ttl": "5m",
        "parameters": {"q": {}, "limit": {"type": "integer", "default": 5}, "x": {}}
    })");
    const auto a = prepare_ok(*c, make_request("GET", {{"q", "paris"}, {"limit", "05"}}));
    const auto b =
        prepare_ok(*c, make_request("GET", {{"limit", "5"}, {"q", "paris"}, {"other", "1"}}));
    const auto d = prepare_ok(*c, make_request("GET", {{"q", "paris5"}}));
    const auto e = prepare_ok(*c, make_request("GET", {{"q", "paris"}, {"x", ""}}));
    EXPECT_FALSE(a.cache_key.empty());
    EXPECT_EQ(a.cache_key, b.cache_key);
    EXPECT_EQ(a.cache_key, e.cache_key);
    EXPECT_NE(a.cache_key, d.cache_key);
    const auto personal = load_endpoint(R"({"parameters": {"q": {}}})");
    EXPECT_TRUE(prepare_ok(*personal, make_request("GET", {{"q", "paris"}})).cache_key.empty());
}

TEST(RestCache, StaleEntriesAreServedAndRefreshedOnce) {
    ResponseCache cache(10, 1000ms, ResponseCache::default_max_bytes, 10'000ms);
    const auto t0 = ResponseCache::Clock::now();
    cache.store("k", "[1]", t0);
    auto fresh = cache.lookup("k", t0 + 500ms);
    ASSERT_TRUE(fresh);
    EXPECT_FALSE(fresh->stale);
    EXPECT_FALSE(fresh->refresh);

    // Past the TTL: served stale, and only the first caller refreshes.
    EXPECT_FALSE(cache.find("k", t0 + 1500ms));
    auto first = cache.lookup("k", t0 + 1500ms);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->data, "[1]");
    EXPECT_TRUE(first->stale);
    EXPECT_TRUE(first->refresh);
    auto second = cache.lookup("k", t0 + 1600ms);
    ASSERT_TRUE(second);
    EXPECT_TRUE(second->stale);
    EXPECT_FALSE(second->refresh);

    // A failed refresh is asked for again only after its retry time.
    cache.refresh_failed("k", t0 + 3000ms);
    EXPECT_FALSE(cache.lookup("k", t0 + 2000ms)->refresh);
    EXPECT_TRUE(cache.lookup("k", t0 + 3000ms)->refresh);

    // A successful refresh makes the entry fresh again.
    cache.store("k", "[2]", t0 + 3500ms);
    auto refreshed = cache.lookup("k", t0 + 4000ms);
    EXPECT_EQ(refreshed->data, "[2]");
    EXPECT_FALSE(refreshed->stale);

    // Past max_stale too, the entry is gone.
    EXPECT_FALSE(cache.lookup("k", t0 + 3500ms + 11'000ms));
    EXPECT_EQ(cache.size(), 0u);
}

TEST(RestCache, WithoutMaxStaleNothingStaleIsServed) {
    ResponseCache cache(10, 1000ms);
    const auto t0 = ResponseCache::Clock::now();
    cache.store("k", "[1]", t0);
    EXPECT_FALSE(cache.lookup("k", t0 + 1000ms));
    EXPECT_EQ(cache.size(), 0u);
}
