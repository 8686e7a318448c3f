#include <gtest/gtest.h>

#include <thread>

#include "server/request_target.hpp"

using namespace relais;
using namespace relais::server;

namespace {

std::optional<RoutePath> route(std::string_view target) {
    auto parsed = parse_target(target);
    if (!parsed) {
        return std::nullopt;
    }
    return route_of(std::move(parsed->segments));
}

}  // namespace

TEST(ServerTarget, RoutesKindSlugEndpoint) {
    const auto r = route("/rest/demo-adresses/search?q=1");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->kind, "rest");
    EXPECT_EQ(r->slug, "demo-adresses");
    EXPECT_EQ(r->endpoint, "search");
    EXPECT_EQ(r->rest, "");
}

TEST(ServerTarget, TrailingSlashIsOptional) {
    const auto with = route("/rest/demo/search/");
    const auto without = route("/rest/demo/search");
    ASSERT_TRUE(with);
    ASSERT_TRUE(without);
    EXPECT_EQ(with->endpoint, "search");
    EXPECT_EQ(with->rest, "");
    EXPECT_EQ(without->rest, "");
    const auto rest = route("/rest/demo/search/a/b/");
    ASSERT_TRUE(rest);
    EXPECT_EQ(rest->rest, "a/b");
}

TEST(ServerTarget, RestIsDecodedSegmentBySegment) {
    const auto r = route("/k/s/e/dossier%20n%C2%B01/pi%C3%A8ces?x=1");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->rest,
              "dossier n\xC2\xB0"
              "1/pi\xC3\xA8"
              "ces");
    EXPECT_EQ(route("/k/s/e/a//b")->rest, "a//b");
    // Dot segments are segments like any other, first ones included.
    EXPECT_EQ(route("/k/s/e/./..")->rest, "./..");
    EXPECT_EQ(parse_target("/./k/s/e")->segments, (std::vector<std::string>{".", "k", "s", "e"}));
}

TEST(ServerTarget, ShortOrEmptySegmentsDoNotRoute) {
    EXPECT_FALSE(route("/"));
    EXPECT_FALSE(route("/rest"));
    EXPECT_FALSE(route("/rest/demo"));
    EXPECT_FALSE(route("/rest/demo/"));
    EXPECT_FALSE(route("//demo/search"));
    EXPECT_FALSE(route("/rest//search"));
    EXPECT_FALSE(route("/rest/demo//x"));
}

TEST(ServerTarget, MalformedTargetsAreRejected) {
    for (const char* target :
         {"", "*", "http://example.org/rest/demo/search", "rest/demo/search",
          "/rest/demo/search?q=%zz", "/rest/de mo/search", "/rest/demo/%4",
          "/rest/demo/search#frag", "/rest/demo/search?q=a#b", "/rest/[demo]/search",
          "/rest/demo/search?q=\x01", "/rest/d\xC3\xA9mo/search", "/rest/demo/search?q=%",
          "/rest/demo/search?q=%4"}) {
        EXPECT_FALSE(parse_target(target)) << target;
    }
}

TEST(ServerTarget, EveryCharacterRfc3986AllowsIsAccepted) {
    const auto parsed = parse_target("/k/s/e/a-._~!$&'()*+,;=:@%2f?q=/?:@!$'()*+,;%3D");
    ASSERT_TRUE(parsed);
    ASSERT_EQ(parsed->segments.size(), 4u);
    EXPECT_EQ(parsed->segments[3], "a-._~!$&'()*+,;=:@/");
    EXPECT_EQ(parsed->raw_query, "q=/?:@!$'()*+,;%3D");
    // A '+' in a path is a plus, not a space; only a query reads it as one.
    EXPECT_EQ(parse_target("/a+b")->segments[0], "a+b");
    EXPECT_EQ(parse_target("/a?")->raw_query, "");
    EXPECT_TRUE(parse_target("/")->segments.empty());
}

TEST(ServerTarget, RawQueryIsKeptForSignatures) {
    const auto parsed = parse_target("/k/s/e?orig=wcs&x=a%2Bb+c&signature=abc%3D");
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->raw_query, "orig=wcs&x=a%2Bb+c&signature=abc%3D");
    EXPECT_EQ(parse_target("/k/s/e")->raw_query, "");
}

TEST(ServerTarget, QueryIsDecodedInOrder) {
    EXPECT_EQ(decode_query("x=a%2Bb+c&y&x=%C3%A9&=v"),
              (QueryParams{{"x", "a+b c"}, {"y", ""}, {"x", "\xC3\xA9"}, {"", "v"}}));
    EXPECT_TRUE(decode_query("").empty());
    // Every '&' ends a parameter, even an empty one; only the first '=' splits.
    EXPECT_EQ(decode_query("a=1&&b=x=y&"),
              (QueryParams{{"a", "1"}, {"", ""}, {"b", "x=y"}, {"", ""}}));
}

TEST(ServerTarget, RequestIdsFromClientsAreValidated) {
    EXPECT_TRUE(valid_request_id("abc-DEF_012.3:4"));
    EXPECT_TRUE(valid_request_id(std::string(128, 'a')));
    EXPECT_FALSE(valid_request_id(std::string(129, 'a')));
    EXPECT_FALSE(valid_request_id(""));
    EXPECT_FALSE(valid_request_id("a b"));
    EXPECT_FALSE(valid_request_id("a\nb"));
    EXPECT_FALSE(valid_request_id("jean@example.org"));
    const std::string kept = "trace-42";
    EXPECT_EQ(request_id_from(&kept), "trace-42");
    const std::string bad = "<script>";
    EXPECT_NE(request_id_from(&bad), "<script>");
}

TEST(ServerTarget, GeneratedRequestIdsAreRandomHex) {
    const auto a = new_request_id();
    const auto b = new_request_id();
    EXPECT_EQ(a.size(), 32u);
    EXPECT_NE(a, b);
    EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_EQ(request_id_from(nullptr).size(), 32u);
}

TEST(ServerTarget, EachThreadGeneratesItsOwnRequestIds) {
    std::string other;
    std::thread([&] { other = new_request_id(); }).join();
    const auto mine = new_request_id();
    EXPECT_EQ(other.size(), 32u);
    EXPECT_NE(other, mine);
}
