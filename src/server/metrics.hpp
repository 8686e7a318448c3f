#pragma once
/// @file
/// The Prometheus metrics of the daemon, rendered in text format 0.0.4 at
/// `/_relais/metrics`.
///
/// | metric                               | type      | labels                      |
/// |--------------------------------------|-----------|-----------------------------|
/// | `relais_requests_total`              | counter   | connector, endpoint, status |
/// | `relais_request_duration_seconds`    | histogram | connector, endpoint         |
/// | `relais_upstream_errors_total`       | counter   | connector, err_class        |
/// | `relais_requests_in_flight`          | gauge     | connector                   |
/// | `relais_open_connections`            | gauge     |                             |
/// | `relais_rejected_connections_total`  | counter   |                             |
/// | `relais_config_reloads_total`        | counter   | result (`ok`, `error`)      |
/// | `relais_delivery_attempts_total`     | counter   | connector, kind, verdict    |
/// | `relais_build_info`                  | gauge     | version                     |
///
/// Label values come from configuration only (connector slugs, endpoint
/// names), never from requests: a request that matches no configured route
/// is counted under connector="-", endpoint="-". Counting is lock-free; a
/// mutex is taken only to create a route's series (at load and reload) and
/// to render.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/error_class.hpp"

namespace relais::server {

/// Upper bounds (seconds) of the request duration histogram buckets.
inline constexpr std::array<double, 13> duration_buckets{
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

/// The series of one (connector, endpoint) pair. Its address is stable for
/// the life of the registry, so that routes resolve it once per runtime.
class RouteMetrics {
public:
    /// Counts one answered request. `status` outside 100..599 is counted as 500.
    void observe(unsigned status, std::optional<ErrorClass> error,
                 std::chrono::nanoseconds duration) noexcept;

private:
    friend class MetricsRegistry;
    static constexpr unsigned first_status = 100;
    static constexpr std::size_t status_count = 500;
    static constexpr std::size_t upstream_class_count = 6;

    // Indexed by status - 100: a fixed array avoids any lookup or lock per request.
    std::array<std::atomic<std::uint64_t>, status_count> by_status_{};
    std::array<std::atomic<std::uint64_t>, duration_buckets.size() + 1> buckets_{};
    std::atomic<std::uint64_t> duration_sum_ns_{0};
    std::array<std::atomic<std::uint64_t>, upstream_class_count> upstream_errors_{};
};

class MetricsRegistry {
public:
    MetricsRegistry();

    /// The series of (connector slug, endpoint name), created on first use.
    RouteMetrics& route(std::string_view connector, std::string_view endpoint);
    /// The series of requests that matched no configured route (and of
    /// requests refused before routing: malformed, too large, too slow).
    RouteMetrics& unrouted() noexcept { return *unrouted_; }
    /// Requests of a connector in progress, created on first use. It is the
    /// counter that enforces the connector's concurrency limit: it lives
    /// here, not in the reloadable Runtime, so that a reload cannot reset it
    /// while requests admitted under the old configuration still run.
    std::atomic<unsigned>& in_flight(std::string_view connector);

    void connection_opened() noexcept { open_connections_.fetch_add(1, std::memory_order_relaxed); }
    void connection_closed() noexcept { open_connections_.fetch_sub(1, std::memory_order_relaxed); }
    std::int64_t open_connections() const noexcept {
        return open_connections_.load(std::memory_order_relaxed);
    }
    void connection_rejected() noexcept { rejected_.fetch_add(1, std::memory_order_relaxed); }
    void config_reloaded(bool ok) noexcept {
        (ok ? reloads_ok_ : reloads_error_).fetch_add(1, std::memory_order_relaxed);
    }

    /// Counts one delivery attempt of the outbox: `kind` push, trigger or demand,
    /// `verdict` delivered, retry or dead. Attempts are few next to
    /// requests: a lock is fine.
    void delivery_attempted(std::string_view connector, std::string_view kind,
                            std::string_view verdict);

    /// Every metric in Prometheus text format 0.0.4.
    std::string render() const;

private:
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, std::string>, std::unique_ptr<RouteMetrics>> routes_;
    RouteMetrics* unrouted_;
    std::map<std::string, std::unique_ptr<std::atomic<unsigned>>, std::less<>> in_flight_;
    std::atomic<std::int64_t> open_connections_{0};
    std::atomic<std::uint64_t> rejected_{0};
    std::atomic<std::uint64_t> reloads_ok_{0};
    std::atomic<std::uint64_t> reloads_error_{0};
    /// (connector, kind, verdict) -> attempts; guarded by mutex_.
    std::map<std::array<std::string, 3>, std::uint64_t, std::less<>> delivery_attempts_;
};

/// Content-Type of the rendered metrics.
inline constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace relais::server
