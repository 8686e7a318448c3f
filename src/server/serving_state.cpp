#include "server/serving_state.hpp"

namespace relais::server {

ServingState::ServingState(std::shared_ptr<const Runtime> runtime, MetricsRegistry& metrics)
    : runtime_(std::move(runtime)) {
    for (const auto& entry : runtime_->connectors()) {
        auto& series = routes_[entry.get()];
        const auto endpoints = entry->connector->endpoints();
        series.reserve(endpoints.size());
        for (const auto& endpoint : endpoints) {
            series.push_back(&metrics.route(entry->slug, endpoint.name));
        }
    }
}

RouteMetrics& ServingState::route_metrics(const ConnectorEntry& entry, std::size_t index) const {
    return *routes_.at(&entry).at(index);
}

}  // namespace relais::server
