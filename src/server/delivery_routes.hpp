#pragma once
/// @file
/// The routes of asynchronous delivery (docs/delivery.md), reached after
/// authentication, routing and grants:
/// - a call to an async endpoint: checked by the connector, sealed into the
///   outbox, answered 202 with a tracking id;
/// - a status report on a connector's callback endpoint: relayed to the GRU
///   core as a trigger through the outbox;
/// - GET …/deliveries/{tracking_id}: where a message stands, no payload.

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "core/http_types.hpp"
#include "core/runtime.hpp"

namespace relais::outbox {
class Outbox;
struct NewMessage;
}  // namespace relais::outbox

namespace relais::server {

class DeliveryRoutes {
public:
    /// `wake` tells the delivery engine a message was stored.
    DeliveryRoutes(outbox::Outbox& outbox, std::function<void()> wake)
        : outbox_(outbox), wake_(std::move(wake)) {}

    /// A call to async endpoint `index` of `entry`.
    boost::asio::awaitable<HttpResponse> push(const Runtime& runtime, const ConnectorEntry& entry,
                                              std::size_t index,
                                              const IncomingRequest& request) const;

    /// A status report on `entry`'s callback endpoint.
    boost::asio::awaitable<HttpResponse> report(const ConnectorEntry& entry,
                                                const IncomingRequest& request) const;

    /// The message `tracking_id` if it belongs to one of `owners` (the
    /// connectors the caller may ask about), else 404 not-found. Only the
    /// families of `owners` are searched.
    boost::asio::awaitable<HttpResponse> status(
        std::string_view method, std::string_view tracking_id,
        std::span<const ConnectorEntry* const> owners) const;

private:
    /// Stores `message` and answers 202 with its tracking id (the first
    /// message's, for a repeated idempotency key).
    boost::asio::awaitable<HttpResponse> store(const std::string& family,
                                               outbox::NewMessage& message) const;
    /// Stores a push of an endpoint that closes the demand of `reference`,
    /// in place of its correlation: 404 `unknown-reference` without one.
    boost::asio::awaitable<HttpResponse> store_closing(const std::string& family,
                                                       outbox::NewMessage& message,
                                                       std::string reference) const;

    outbox::Outbox& outbox_;
    std::function<void()> wake_;
};

}  // namespace relais::server
