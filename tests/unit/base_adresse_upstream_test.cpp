// The base-adresse connector's configuration and its use of the upstream
// rate limiter.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <string>

#include "base-adresse/adopted_state.hpp"
#include "base-adresse/connector_spec.hpp"
#include "base-adresse/geo_upstream.hpp"

using namespace relais;
using namespace relais::base_adresse;
using namespace std::chrono_literals;

namespace {

ConnectorSpec load(const std::string& json) {
    rapidjson::Document doc;
    doc.Parse(json.c_str());
    EXPECT_FALSE(doc.HasParseError());
    const SourceMap map("test.yaml");
    const ConnectorSource source{doc, map, "ban", "base-adresse", "reference", {}};
    return load_connector_spec(source);
}

/// A loopback port nothing listens on (bound, then released).
unsigned short closed_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    bind(fd, reinterpret_cast<sockaddr*>(&address), size);
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
    close(fd);
    return ntohs(address.sin_port);
}

}  // namespace

TEST(BaseAdresseConfig, Defaults) {
    const ConnectorSpec spec = load(
        R"({"slug": "ban", "kind": "base-adresse", "family": "reference",
            "endpoints": {"cities": {}, "search": {"description": "x"}}})");
    EXPECT_EQ(spec.geocoder.base_url, "https://data.geopf.fr/geocodage/");
    EXPECT_EQ(spec.api_geo.base_url, "https://geo.api.gouv.fr/");
    EXPECT_EQ(spec.geocoder.rate_limit.per_second, 50);
    EXPECT_EQ(spec.cache.ttl, std::chrono::milliseconds(24h));
    EXPECT_EQ(spec.cache.max_stale, std::chrono::milliseconds(168h));
    ASSERT_EQ(spec.endpoints.size(), 2u);
    EXPECT_EQ(spec.endpoints[0], Endpoint::cities);
    EXPECT_EQ(spec.endpoints[1], Endpoint::search);
    ASSERT_EQ(spec.geocoder.headers.size(), 1u);
    EXPECT_EQ(spec.geocoder.headers[0].name, "Accept");
}

TEST(BaseAdresseConfig, Overrides) {
    const ConnectorSpec spec = load(
        R"({"slug": "ban", "kind": "base-adresse", "family": "reference",
            "geocoder": {"base_url": "http://127.0.0.1:9/geo", "timeout": "2s",
                         "rate_limit": {"per_second": 5, "burst": 2, "max_wait": "0ms"},
                         "headers": {"X-Key": "k"}},
            "cache": {"ttl": "1m", "max_stale": "0s", "max_entries": 10},
            "id_key": "0123456789abcdef0123456789abcdef",
            "endpoints": {"regions": {}}})");
    EXPECT_EQ(spec.geocoder.base_url, "http://127.0.0.1:9/geo/");
    EXPECT_EQ(spec.geocoder.timeout, 2s);
    EXPECT_EQ(spec.geocoder.rate_limit.per_second, 5);
    EXPECT_EQ(spec.geocoder.rate_limit.burst, 2u);
    EXPECT_EQ(spec.geocoder.rate_limit.max_wait, 0ms);
    EXPECT_EQ(spec.geocoder.headers.size(), 2u);
    EXPECT_EQ(spec.cache.ttl, 1min);
    EXPECT_EQ(spec.cache.max_stale, 0ms);
    EXPECT_EQ(spec.cache.max_entries, 10u);
    EXPECT_EQ(spec.id_key, "0123456789abcdef0123456789abcdef");
}

TEST(BaseAdresseConfig, SemanticErrors) {
    const auto refused = [](const std::string& extra, const std::string& fragment) {
        try {
            load(R"({"slug": "ban", "kind": "base-adresse", "family": "reference", )" + extra +
                 R"(, "endpoints": {"search": {}}})");
            ADD_FAILURE() << extra;
        } catch (const ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
        }
    };
    refused(R"("geocoder": {"base_url": "http://u:p@host/"})", "credentials");
    refused(R"("geocoder": {"base_url": "http://host/?a=b"})", "query");
    refused(R"("api_geo": {"timeout": "0s"})", "greater than zero");
    refused(R"("api_geo": {"headers": {"Host": "x"}})", "set by relais");
    refused(R"("id_key": "0123456789abcdef0123456789abcde")", "32 bytes");
    refused(R"("geocoder": {"rate_limit": {"per_second": 0.001}})", "from 0.01 to 10000");
    refused(R"("geocoder": {"rate_limit": {"max_wait": "11s"}})", "from 0ms to 10s");
    refused(R"("cache": {"ttl": "999999999h"})", "at most 8760h");
    refused(R"("cache": {"max_stale": "8761h"})", "up to 8760h");
    try {
        load(R"({"slug": "ban", "kind": "base-adresse", "family": "reference",
                 "endpoints": {"geocode": {}}})");
        ADD_FAILURE();
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("not an endpoint"), std::string::npos);
    }
}

TEST(BaseAdresseUpstream, RetryAfter) {
    EXPECT_EQ(retry_after_pause({}), 1s);
    EXPECT_EQ(retry_after_pause({{"Retry-After", "7"}}), 7s);
    EXPECT_EQ(retry_after_pause({{"retry-after", " 2 "}}), 2s);
    EXPECT_EQ(retry_after_pause({{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}}), 1s);
    EXPECT_EQ(retry_after_pause({{"Retry-After", "99999999999999999999999"}}), max_retry_after);
    EXPECT_EQ(retry_after_pause({{"Retry-After", "3600"}}), max_retry_after);
    EXPECT_EQ(retry_after_pause({{"Retry-After", "-1"}}), 1s);
}

TEST(BaseAdresseUpstream, OverTheRateLimitTheUpstreamIsNotCalled) {
    UpstreamSpec spec;
    spec.base_url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/";
    spec.timeout = 2s;
    spec.rate_limit = RateLimitSpec{0.01, 1, 0ms};
    const GeoUpstream upstream(spec, "ban", "geocoder");
    boost::asio::io_context io;
    UpstreamStats stats;
    // The coroutine keeps a reference to its target: it must outlive io.run().
    const std::string target = "search?q=x";
    auto first =
        boost::asio::co_spawn(io, upstream.get(target, "r1", stats), boost::asio::use_future);
    io.run();
    auto answer = first.get();
    ASSERT_TRUE(std::holds_alternative<HttpResponse>(answer));
    EXPECT_EQ(std::get<HttpResponse>(answer).error, ErrorClass::upstream_unreachable);
    EXPECT_EQ(stats.attempts, 1u);

    io.restart();
    auto second =
        boost::asio::co_spawn(io, upstream.get(target, "r2", stats), boost::asio::use_future);
    io.run();
    answer = second.get();
    ASSERT_TRUE(std::holds_alternative<HttpResponse>(answer));
    EXPECT_EQ(std::get<HttpResponse>(answer).error, ErrorClass::upstream_rate_limited);
    EXPECT_EQ(std::get<HttpResponse>(answer).status, 503u);
    EXPECT_EQ(stats.attempts, 1u);
}

TEST(BaseAdresseReload, CachesAndLimitersAreAdoptedWhileTheirSettingsStay) {
    UpstreamSpec upstream;
    upstream.base_url = "http://127.0.0.1:9/adopt/";
    CacheSpec cache;
    auto first = adopt_cache("ban", Endpoint::cities, upstream, cache, "k1");
    EXPECT_EQ(adopt_cache("ban", Endpoint::cities, upstream, cache, "k1"), first);
    EXPECT_NE(adopt_cache("ban", Endpoint::regions, upstream, cache, "k1"), first);
    EXPECT_NE(adopt_cache("ban2", Endpoint::cities, upstream, cache, "k1"), first);
    // The id key matters only to streets, whose answers hold ids.
    EXPECT_EQ(adopt_cache("ban", Endpoint::cities, upstream, cache, "k2"), first);
    const auto streets = adopt_cache("ban", Endpoint::streets, upstream, cache, "k1");
    EXPECT_EQ(adopt_cache("ban", Endpoint::streets, upstream, cache, "k1"), streets);
    EXPECT_NE(adopt_cache("ban", Endpoint::streets, upstream, cache, "k2"), streets);
    CacheSpec shorter = cache;
    shorter.ttl = 1min;
    EXPECT_NE(adopt_cache("ban", Endpoint::cities, upstream, shorter, "k1"), first);

    auto limiter = adopt_rate_limiter("ban", "geocoder", upstream);
    EXPECT_EQ(adopt_rate_limiter("ban", "geocoder", upstream), limiter);
    EXPECT_NE(adopt_rate_limiter("ban", "api_geo", upstream), limiter);
    UpstreamSpec faster = upstream;
    faster.rate_limit.per_second = 100;
    EXPECT_NE(adopt_rate_limiter("ban", "geocoder", faster), limiter);

    // Nothing is kept alive by the registry.
    const std::weak_ptr<ResponseCache> gone = first;
    first.reset();
    EXPECT_TRUE(gone.expired());
}
