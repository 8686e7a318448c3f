#include "server/request_log.hpp"

#include <array>
#include <optional>
#include <string_view>

#include "core/log.hpp"

namespace relais::server {

namespace {

// Extension methods are tokens a client chooses: logging them verbatim
// would let a request write arbitrary text into the log.
std::string_view loggable_method(std::string_view method) noexcept {
    if (method.empty()) {
        return "-";
    }
    static constexpr std::array<std::string_view, 9> known{
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"};
    for (const auto m : known) {
        if (m == method) {
            return m;
        }
    }
    return "OTHER";
}

}  // namespace

void record_request(MetricsRegistry& metrics, const FinishedRequest& request) {
    const RequestLabels& labels = request.labels;
    const double duration_ms = static_cast<double>(request.duration.count()) / 1e6;
    if (!labels.admin) {
        RouteMetrics& route = labels.metrics != nullptr ? *labels.metrics : metrics.unrouted();
        route.observe(request.status, request.error, request.duration);
    }
    const log::Level level = labels.admin ? log::Level::debug : log::Level::info;
    if (!log::enabled(level)) {
        return;
    }
    const std::string_view method = loggable_method(request.method);
    std::optional<std::string_view> err_class;
    std::optional<std::string_view> reason;
    if (request.error) {
        err_class = describe(*request.error).slug;
        if (!labels.reason.empty()) {
            reason = labels.reason;
        }
    }
    std::optional<double> upstream_ms;
    std::optional<unsigned> upstream_attempts;
    if (request.upstream.attempts > 0) {
        upstream_ms = static_cast<double>(request.upstream.elapsed.count()) / 1e3;
        upstream_attempts = request.upstream.attempts;
    }
    log::write(level, "request",
               {{"request_id", request.request_id},
                {"remote", request.remote},
                {"client", labels.client},
                {"kind", labels.kind},
                {"connector", labels.connector},
                {"endpoint", labels.endpoint},
                {"method", method},
                {"status", request.status},
                {"err_class", err_class},
                {"reason", reason},
                {"duration_ms", duration_ms},
                {"upstream_ms", upstream_ms},
                {"upstream_attempts", upstream_attempts}});
}

}  // namespace relais::server
