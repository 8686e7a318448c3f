#include "server/metrics.hpp"

#include <algorithm>
#include <cstdio>

namespace relais::server {

namespace {

constexpr std::array<ErrorClass, 6> upstream_classes{
    ErrorClass::upstream_unreachable,      ErrorClass::upstream_error,
    ErrorClass::upstream_invalid_response, ErrorClass::upstream_fault,
    ErrorClass::upstream_rate_limited,     ErrorClass::upstream_timeout};

std::optional<std::size_t> upstream_slot(ErrorClass error) noexcept {
    for (std::size_t i = 0; i < upstream_classes.size(); ++i) {
        if (upstream_classes[i] == error) {
            return i;
        }
    }
    return std::nullopt;
}

void append_label_value(std::string& out, std::string_view value) {
    for (char c : value) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out.push_back(c);
        }
    }
}

void append_route_labels(std::string& out, const std::pair<std::string, std::string>& key) {
    out += "connector=\"";
    append_label_value(out, key.first);
    out += "\",endpoint=\"";
    append_label_value(out, key.second);
    out += '"';
}

void append_number(std::string& out, std::uint64_t value) {
    out += std::to_string(value);
}

void append_seconds(std::string& out, std::uint64_t nanoseconds) {
    // Exact decimal rendering of the integer nanosecond sum.
    char buf[40];
    std::snprintf(buf, sizeof buf, "%llu.%09llu",
                  static_cast<unsigned long long>(nanoseconds / 1'000'000'000),
                  static_cast<unsigned long long>(nanoseconds % 1'000'000'000));
    out += buf;
}

void append_bound(std::string& out, double bound) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", bound);
    out += buf;
}

void append_header(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

}  // namespace

void RouteMetrics::observe(unsigned status, std::optional<ErrorClass> error,
                           std::chrono::nanoseconds duration) noexcept {
    if (status < first_status || status >= first_status + status_count) {
        status = 500;
    }
    by_status_[status - first_status].fetch_add(1, std::memory_order_relaxed);

    const auto ns = static_cast<std::uint64_t>(std::max<std::int64_t>(duration.count(), 0));
    const double seconds = static_cast<double>(ns) / 1e9;
    std::size_t bucket = 0;
    while (bucket < duration_buckets.size() && seconds > duration_buckets[bucket]) {
        ++bucket;
    }
    buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
    duration_sum_ns_.fetch_add(ns, std::memory_order_relaxed);

    if (error) {
        if (const auto slot = upstream_slot(*error)) {
            upstream_errors_[*slot].fetch_add(1, std::memory_order_relaxed);
        }
    }
}

MetricsRegistry::MetricsRegistry() : unrouted_(&route("-", "-")) {}

RouteMetrics& MetricsRegistry::route(std::string_view connector, std::string_view endpoint) {
    const std::scoped_lock lock(mutex_);
    auto& slot = routes_[{std::string(connector), std::string(endpoint)}];
    if (!slot) {
        slot = std::make_unique<RouteMetrics>();
    }
    return *slot;
}

std::atomic<unsigned>& MetricsRegistry::in_flight(std::string_view connector) {
    const std::scoped_lock lock(mutex_);
    auto found = in_flight_.find(connector);
    if (found == in_flight_.end()) {
        found =
            in_flight_.emplace(std::string(connector), std::make_unique<std::atomic<unsigned>>(0))
                .first;
    }
    return *found->second;
}

void MetricsRegistry::delivery_attempted(std::string_view connector, std::string_view kind,
                                         std::string_view verdict) {
    const std::scoped_lock lock(mutex_);
    ++delivery_attempts_[{std::string(connector), std::string(kind), std::string(verdict)}];
}

std::string MetricsRegistry::render() const {
    std::string out;
    out.reserve(4096);
    const std::scoped_lock lock(mutex_);

    append_header(out, "relais_requests_total", "counter",
                  "Requests answered, by connector, endpoint and HTTP status.");
    for (const auto& [key, route] : routes_) {
        for (std::size_t i = 0; i < RouteMetrics::status_count; ++i) {
            const auto count = route->by_status_[i].load(std::memory_order_relaxed);
            if (count == 0) {
                continue;
            }
            out += "relais_requests_total{";
            append_route_labels(out, key);
            out += ",status=\"";
            append_number(out, RouteMetrics::first_status + i);
            out += "\"} ";
            append_number(out, count);
            out += '\n';
        }
    }

    append_header(out, "relais_request_duration_seconds", "histogram",
                  "Time from a request's head being read to its response being written.");
    for (const auto& [key, route] : routes_) {
        std::uint64_t cumulative = 0;
        for (std::size_t b = 0; b <= duration_buckets.size(); ++b) {
            cumulative += route->buckets_[b].load(std::memory_order_relaxed);
            out += "relais_request_duration_seconds_bucket{";
            append_route_labels(out, key);
            out += ",le=\"";
            if (b < duration_buckets.size()) {
                append_bound(out, duration_buckets[b]);
            } else {
                out += "+Inf";
            }
            out += "\"} ";
            append_number(out, cumulative);
            out += '\n';
        }
        out += "relais_request_duration_seconds_sum{";
        append_route_labels(out, key);
        out += "} ";
        append_seconds(out, route->duration_sum_ns_.load(std::memory_order_relaxed));
        out += "\nrelais_request_duration_seconds_count{";
        append_route_labels(out, key);
        out += "} ";
        append_number(out, cumulative);
        out += '\n';
    }

    static_assert(upstream_classes.size() == RouteMetrics::upstream_class_count);
    append_header(out, "relais_upstream_errors_total", "counter",
                  "Responses carrying an upstream error class, by connector.");
    auto connector = routes_.begin();
    while (connector != routes_.end()) {
        const std::string& slug = connector->first.first;
        std::array<std::uint64_t, RouteMetrics::upstream_class_count> totals{};
        auto route = connector;
        for (; route != routes_.end() && route->first.first == slug; ++route) {
            for (std::size_t i = 0; i < totals.size(); ++i) {
                totals[i] += route->second->upstream_errors_[i].load(std::memory_order_relaxed);
            }
        }
        if (slug != "-") {
            for (std::size_t i = 0; i < totals.size(); ++i) {
                out += "relais_upstream_errors_total{connector=\"";
                append_label_value(out, slug);
                out += "\",err_class=\"";
                out += describe(upstream_classes[i]).slug;
                out += "\"} ";
                append_number(out, totals[i]);
                out += '\n';
            }
        }
        connector = route;
    }

    append_header(out, "relais_requests_in_flight", "gauge",
                  "Requests in progress, by connector (bounded by its limits.concurrency).");
    for (const auto& [slug, count] : in_flight_) {
        out += "relais_requests_in_flight{connector=\"";
        append_label_value(out, slug);
        out += "\"} ";
        append_number(out, count->load(std::memory_order_relaxed));
        out += '\n';
    }

    append_header(out, "relais_open_connections", "gauge", "Client connections currently open.");
    out += "relais_open_connections ";
    out += std::to_string(open_connections_.load(std::memory_order_relaxed));
    out += '\n';

    append_header(out, "relais_rejected_connections_total", "counter",
                  "Connections refused with 503 because max_connections were open.");
    out += "relais_rejected_connections_total ";
    append_number(out, rejected_.load(std::memory_order_relaxed));
    out += '\n';

    append_header(out, "relais_config_reloads_total", "counter",
                  "Configuration reloads (SIGHUP), by result.");
    out += "relais_config_reloads_total{result=\"ok\"} ";
    append_number(out, reloads_ok_.load(std::memory_order_relaxed));
    out += "\nrelais_config_reloads_total{result=\"error\"} ";
    append_number(out, reloads_error_.load(std::memory_order_relaxed));
    out += '\n';

    append_header(
        out, "relais_delivery_attempts_total", "counter",
        "Delivery attempts of the outbox, by connector, kind (push, trigger or demand) and "
        "verdict (delivered, retry, dead).");
    for (const auto& [key, count] : delivery_attempts_) {
        out += "relais_delivery_attempts_total{connector=\"";
        append_label_value(out, key[0]);
        out += "\",kind=\"";
        append_label_value(out, key[1]);
        out += "\",verdict=\"";
        append_label_value(out, key[2]);
        out += "\"} ";
        append_number(out, count);
        out += '\n';
    }

    append_header(out, "relais_build_info", "gauge", "Always 1; the version is in the label.");
    out += "relais_build_info{version=\"";
    append_label_value(out, RELAIS_VERSION);
    out += "\"} 1\n";
    return out;
}

}  // namespace relais::server
