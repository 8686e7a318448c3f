#pragma once
/// @file
/// What a request runs on: a loaded Runtime with the metric series of its
/// routes resolved once, so that no request looks a series up by name.
/// A reload builds a new ServingState and swaps it into the StateSlot;
/// requests in flight keep the snapshot they started with.

#include <atomic>
#include <cstddef>
#include <memory>
#include <unordered_map>
#include <vector>

#include "core/runtime.hpp"
#include "core/shared_slot.hpp"
#include "server/metrics.hpp"

namespace relais::server {

class ServingState {
public:
    ServingState(std::shared_ptr<const Runtime> runtime, MetricsRegistry& metrics);

    const Runtime& runtime() const noexcept { return *runtime_; }
    /// The series of endpoint `index` of `entry`, an entry of this runtime.
    RouteMetrics& route_metrics(const ConnectorEntry& entry, std::size_t index) const;
    /// The in-flight counter of `entry`'s connector (shared across reloads).
    std::atomic<unsigned>& in_flight(const ConnectorEntry& entry) const;

private:
    struct ConnectorSeries {
        std::vector<RouteMetrics*> endpoints;
        std::atomic<unsigned>* in_flight = nullptr;
    };
    std::shared_ptr<const Runtime> runtime_;
    std::unordered_map<const ConnectorEntry*, ConnectorSeries> connectors_;
};

/// The current ServingState, shared by every I/O thread.
using StateSlot = SharedSlot<const ServingState>;

}  // namespace relais::server
