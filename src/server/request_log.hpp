#pragma once
/// @file
/// The one place a finished request is logged and counted, so that the log
/// line and the metrics never disagree.
///
/// The `request` line carries: request_id, remote (peer IP), client, kind,
/// connector, endpoint, method, status, err_class (errors only), reason
/// (authentication failures only; log-safe by contract), duration_ms, and
/// upstream_ms and upstream_attempts when the connector called an upstream.
/// Never the path after the endpoint, the query, headers or the body.

#include <chrono>
#include <optional>
#include <string_view>

#include "core/error_class.hpp"
#include "server/dispatcher.hpp"
#include "server/metrics.hpp"

namespace relais::server {

struct FinishedRequest {
    std::string_view request_id;
    std::string_view remote;
    std::string_view method;  ///< as sent (empty if unread); logged only if standard
    const RequestLabels& labels;
    unsigned status;
    std::optional<ErrorClass> error;
    std::chrono::nanoseconds duration;
    UpstreamStats upstream{};
};

/// Writes the `request` log line and counts the request.
void record_request(MetricsRegistry& metrics, const FinishedRequest& request);

}  // namespace relais::server
