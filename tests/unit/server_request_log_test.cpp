// The `request` log line: the fields each outcome carries, in a fixed order.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "core/log.hpp"
#include "server/request_log.hpp"

using namespace relais;
using namespace relais::server;
using namespace std::chrono_literals;

namespace {

/// What `record_request` logs after the event name, for a GET of search on
/// geo by client c that took 1.5 ms.
std::string logged_fields(const RequestLabels& labels, unsigned status,
                          std::optional<ErrorClass> error, UpstreamStats upstream = {}) {
    const auto file = std::filesystem::temp_directory_path() /
                      ("relais-request-log-" + std::to_string(::getpid()) + ".log");
    log::configure(log::Level::info, file);
    MetricsRegistry metrics;
    record_request(metrics, FinishedRequest{"rid", "192.0.2.1", "GET", labels, status, error,
                                            1500us, upstream});
    log::configure(log::Level::info);  // writes what is pending, then back to standard error
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    std::filesystem::remove(file);
    const std::string event = R"("event":"request",)";
    const auto at = line.find(event);
    return at == std::string::npos ? line : line.substr(at + event.size());
}

RequestLabels search_labels(std::string reason = {}) {
    RequestLabels labels;
    labels.client = "c";
    labels.kind = "rest";
    labels.connector = "geo";
    labels.endpoint = "search";
    labels.reason = std::move(reason);
    return labels;
}

constexpr std::string_view common =
    R"("request_id":"rid","remote":"192.0.2.1","client":"c","kind":"rest","connector":"geo","endpoint":"search","method":"GET","status":)";

}  // namespace

TEST(RequestLog, SuccessHasNoErrorFields) {
    EXPECT_EQ(logged_fields(search_labels(), 200, std::nullopt),
              std::string(common) + R"(200,"duration_ms":1.5})");
}

TEST(RequestLog, ReasonIsLoggedOnlyWithAnError) {
    EXPECT_EQ(logged_fields(search_labels("unknown key"), 200, std::nullopt),
              std::string(common) + R"(200,"duration_ms":1.5})");
}

TEST(RequestLog, ErrorHasItsClass) {
    EXPECT_EQ(logged_fields(search_labels(), 404, ErrorClass::not_found),
              std::string(common) + R"(404,"err_class":"not-found","duration_ms":1.5})");
}

TEST(RequestLog, ErrorWithAReasonHasBoth) {
    EXPECT_EQ(
        logged_fields(search_labels("unknown key"), 403, ErrorClass::invalid_credentials),
        std::string(common) +
            R"(403,"err_class":"invalid-credentials","reason":"unknown key","duration_ms":1.5})");
}

TEST(RequestLog, UpstreamTimeAndAttemptsWhenAnUpstreamWasCalled) {
    EXPECT_EQ(logged_fields(search_labels(), 504, ErrorClass::upstream_timeout, {1250us, 2}),
              std::string(common) +
                  R"(504,"err_class":"upstream-timeout","duration_ms":1.5,"upstream_ms":1.25,)"
                  R"("upstream_attempts":2})");
}
