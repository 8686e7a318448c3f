#include "server/metrics.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace relais;
using namespace relais::server;
using namespace std::chrono_literals;

namespace {

bool has_line(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos || text.starts_with(line + "\n");
}

}  // namespace

TEST(Metrics, CountsRequestsByRouteAndStatus) {
    MetricsRegistry metrics;
    auto& search = metrics.route("demo-adresses", "search");
    search.observe(200, std::nullopt, 3ms);
    search.observe(200, std::nullopt, 30ms);
    search.observe(504, ErrorClass::upstream_timeout, 2s);
    metrics.unrouted().observe(404, ErrorClass::not_found, 10us);
    const auto text = metrics.render();
    EXPECT_TRUE(has_line(
        text,
        R"(relais_requests_total{connector="demo-adresses",endpoint="search",status="200"} 2)"))
        << text;
    EXPECT_TRUE(has_line(
        text,
        R"(relais_requests_total{connector="demo-adresses",endpoint="search",status="504"} 1)"));
    EXPECT_TRUE(
        has_line(text, R"(relais_requests_total{connector="-",endpoint="-",status="404"} 1)"));
    EXPECT_EQ(text.find("status=\"500\""), std::string::npos);
}

TEST(Metrics, HistogramBucketsAreCumulative) {
    MetricsRegistry metrics;
    auto& route = metrics.route("c", "e");
    route.observe(200, std::nullopt, 1ms);     // le=0.001 (bounds are inclusive)
    route.observe(200, std::nullopt, 7ms);     // le=0.01
    route.observe(200, std::nullopt, 1500ms);  // le=2.5
    route.observe(200, std::nullopt, 11s);     // +Inf only
    const auto text = metrics.render();
    const std::string p =
        R"(relais_request_duration_seconds_bucket{connector="c",endpoint="e",le=)";
    EXPECT_TRUE(has_line(text, p + R"("0.001"} 1)")) << text;
    EXPECT_TRUE(has_line(text, p + R"("0.0025"} 1)"));
    EXPECT_TRUE(has_line(text, p + R"("0.01"} 2)"));
    EXPECT_TRUE(has_line(text, p + R"("1"} 2)"));
    EXPECT_TRUE(has_line(text, p + R"("2.5"} 3)"));
    EXPECT_TRUE(has_line(text, p + R"("10"} 3)"));
    EXPECT_TRUE(has_line(text, p + R"("+Inf"} 4)"));
    EXPECT_TRUE(has_line(
        text, R"(relais_request_duration_seconds_sum{connector="c",endpoint="e"} 12.508000000)"));
    EXPECT_TRUE(
        has_line(text, R"(relais_request_duration_seconds_count{connector="c",endpoint="e"} 4)"));
}

TEST(Metrics, UpstreamErrorsAreSummedPerConnector) {
    MetricsRegistry metrics;
    metrics.route("rest-a", "one").observe(502, ErrorClass::upstream_unreachable, 1ms);
    metrics.route("rest-a", "two").observe(502, ErrorClass::upstream_unreachable, 1ms);
    metrics.route("rest-a", "two").observe(504, ErrorClass::upstream_timeout, 1ms);
    metrics.route("rest-a", "two").observe(400, ErrorClass::missing_parameter, 1ms);
    metrics.route("rest-b", "x").observe(200, std::nullopt, 1ms);
    metrics.unrouted().observe(502, ErrorClass::upstream_error, 1ms);
    const auto text = metrics.render();
    EXPECT_TRUE(has_line(
        text,
        R"(relais_upstream_errors_total{connector="rest-a",err_class="upstream-unreachable"} 2)"))
        << text;
    EXPECT_TRUE(has_line(
        text,
        R"(relais_upstream_errors_total{connector="rest-a",err_class="upstream-timeout"} 1)"));
    EXPECT_TRUE(has_line(
        text, R"(relais_upstream_errors_total{connector="rest-b",err_class="upstream-error"} 0)"));
    EXPECT_EQ(text.find(R"(relais_upstream_errors_total{connector="-")"), std::string::npos);
    EXPECT_EQ(text.find("missing-parameter"), std::string::npos);
}

TEST(Metrics, ConnectionsReloadsAndBuildInfo) {
    MetricsRegistry metrics;
    metrics.connection_opened();
    metrics.connection_opened();
    metrics.connection_closed();
    metrics.connection_rejected();
    metrics.config_reloaded(true);
    metrics.config_reloaded(false);
    metrics.config_reloaded(false);
    const auto text = metrics.render();
    EXPECT_EQ(metrics.open_connections(), 1);
    EXPECT_TRUE(has_line(text, "relais_open_connections 1")) << text;
    EXPECT_TRUE(has_line(text, "relais_rejected_connections_total 1"));
    EXPECT_TRUE(has_line(text, R"(relais_config_reloads_total{result="ok"} 1)"));
    EXPECT_TRUE(has_line(text, R"(relais_config_reloads_total{result="error"} 2)"));
    EXPECT_TRUE(has_line(text, R"(relais_build_info{version=")" RELAIS_VERSION R"("} 1)"));
    EXPECT_TRUE(has_line(text, "# TYPE relais_request_duration_seconds histogram"));
    EXPECT_TRUE(has_line(text, "# TYPE relais_open_connections gauge"));
}

TEST(Metrics, DeliveryAttemptsByConnectorKindAndVerdict) {
    MetricsRegistry metrics;
    metrics.delivery_attempted("urba", "push", "retry");
    metrics.delivery_attempted("urba", "push", "retry");
    metrics.delivery_attempted("urba", "push", "delivered");
    metrics.delivery_attempted("urba", "trigger", "dead");
    const auto text = metrics.render();
    EXPECT_TRUE(has_line(text, "# TYPE relais_delivery_attempts_total counter")) << text;
    EXPECT_TRUE(has_line(
        text, R"(relais_delivery_attempts_total{connector="urba",kind="push",verdict="retry"} 2)"));
    EXPECT_TRUE(has_line(
        text,
        R"(relais_delivery_attempts_total{connector="urba",kind="push",verdict="delivered"} 1)"));
    EXPECT_TRUE(has_line(
        text,
        R"(relais_delivery_attempts_total{connector="urba",kind="trigger",verdict="dead"} 1)"));
}

TEST(Metrics, RouteSeriesAreStableAndLabelsEscaped) {
    MetricsRegistry metrics;
    auto& a = metrics.route("x", "y");
    EXPECT_EQ(&a, &metrics.route("x", "y"));
    metrics.route("q\"uo\\te", "n\nl").observe(200, std::nullopt, 1ms);
    const auto text = metrics.render();
    EXPECT_NE(text.find(R"({connector="q\"uo\\te",endpoint="n\nl",status="200"} 1)"),
              std::string::npos)
        << text;
}

TEST(Metrics, OutOfRangeStatusCountsAs500) {
    MetricsRegistry metrics;
    metrics.route("c", "e").observe(42, std::nullopt, 1ms);
    EXPECT_TRUE(has_line(metrics.render(),
                         R"(relais_requests_total{connector="c",endpoint="e",status="500"} 1)"));
}
