#include "server/serving_state.hpp"

namespace relais::server {

ServingState::ServingState(std::shared_ptr<const Runtime> runtime, MetricsRegistry& metrics)
    : runtime_(std::move(runtime)) {
    for (const auto& entry : runtime_->connectors()) {
        auto& series = connectors_[entry.get()];
        const auto endpoints = entry->connector->endpoints();
        series.endpoints.reserve(endpoints.size() + entry->core_routes.size());
        for (const auto& endpoint : endpoints) {
            series.endpoints.push_back(&metrics.route(entry->slug, endpoint.name));
        }
        for (const auto& route : entry->core_routes) {
            series.endpoints.push_back(&metrics.route(entry->slug, route));
        }
        series.in_flight = &metrics.in_flight(entry->slug);
    }
}

RouteMetrics& ServingState::route_metrics(const ConnectorEntry& entry, std::size_t index) const {
    return *connectors_.at(&entry).endpoints.at(index);
}

std::atomic<unsigned>& ServingState::in_flight(const ConnectorEntry& entry) const {
    return *connectors_.at(&entry).in_flight;
}

}  // namespace relais::server
