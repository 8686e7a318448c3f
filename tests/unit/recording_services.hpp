#pragma once
// ConnectorServices for unit tests of connectors that open GRU demands:
// records every demand it is asked to queue and answers a fixed tracking id.

#include <boost/asio/awaitable.hpp>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/connector.hpp"

namespace relais::test_support {

class RecordingServices final : public ConnectorServices {
public:
    boost::asio::awaitable<std::optional<std::string>> submit_demand(
        std::string_view connector, std::string_view family, GruDemand demand) const override {
        const std::lock_guard lock(mutex);
        calls.push_back({std::string(connector), std::string(family), std::move(demand)});
        co_return answer;
    }

    struct Call {
        std::string connector;
        std::string family;
        GruDemand demand;
    };
    /// What submit_demand answers; nullopt: the demand could not be queued.
    std::optional<std::string> answer = "0123456789abcdef0123456789abcdef";
    mutable std::mutex mutex;
    mutable std::vector<Call> calls;
};

}  // namespace relais::test_support
