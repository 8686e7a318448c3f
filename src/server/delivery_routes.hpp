#pragma once
/// @file
/// The routes of asynchronous delivery (docs/delivery.md), reached after
/// authentication, routing and grants:
/// - a call to an async endpoint: checked by the connector, sealed into the
///   outbox, answered 202 with a tracking id;
/// - a status report on a connector's callback endpoint: relayed to the GRU
///   core as a trigger through the outbox;
/// - a demand on a connector's demand endpoint: opened in the GRU core
///   through the outbox;
/// - GET …/deliveries/{tracking_id}: where a message stands, no payload.

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "core/http_types.hpp"
#include "core/runtime.hpp"
#include "server/business_messages.hpp"

namespace relais::outbox {
class Outbox;
struct NewMessage;
}  // namespace relais::outbox

namespace relais::server {

/// The tracking id of a message queued (or queued before, for a repeated
/// call), or the refusal to answer instead.
using Queued = std::variant<std::string, HttpResponse>;

class DeliveryRoutes {
public:
    /// `wake` tells the delivery engine a message was stored; demands are
    /// opened through `services` (bound to the same outbox). Both
    /// references must outlive the routes.
    DeliveryRoutes(outbox::Outbox& outbox, std::function<void()> wake,
                   const ConnectorServices& services)
        : outbox_(outbox), wake_(std::move(wake)), services_(services) {}

    /// A call to async endpoint `index` of `entry`.
    boost::asio::awaitable<HttpResponse> push(const Runtime& runtime, const ConnectorEntry& entry,
                                              std::size_t index,
                                              const IncomingRequest& request) const;

    /// A status report POSTed as JSON to `entry`'s callback endpoint.
    boost::asio::awaitable<HttpResponse> report(const ConnectorEntry& entry,
                                                const IncomingRequest& request) const;

    /// A status report for `entry`, which declares `callbacks:`, however it
    /// came (REST or SOAP): checked, then queued as a trigger of the
    /// correlated demand. `request` gives the client, the request id and
    /// the Idempotency-Key header.
    boost::asio::awaitable<Queued> relay_report(const ConnectorEntry& entry, StatusReport report,
                                                const IncomingRequest& request) const;

    /// A demand POSTed as JSON to `entry`'s demand endpoint.
    boost::asio::awaitable<HttpResponse> demand(const ConnectorEntry& entry,
                                                const IncomingRequest& request) const;

    /// A demand for `entry`, which declares `demands:`, however it came:
    /// checked, then queued for the GRU core through
    /// ConnectorServices::submit_demand (with a reference: idempotent, and
    /// correlated once the GRU opens it).
    boost::asio::awaitable<Queued> open_demand(const ConnectorEntry& entry, DemandCall call,
                                               const IncomingRequest& request) const;

    /// The message `tracking_id` if it belongs to one of `owners` (the
    /// connectors the caller may ask about), else 404 not-found. Only the
    /// families of `owners` are searched.
    boost::asio::awaitable<HttpResponse> status(
        std::string_view method, std::string_view tracking_id,
        std::span<const ConnectorEntry* const> owners) const;

private:
    /// Stores `message`; its tracking id (the first message's, for a
    /// repeated idempotency key).
    boost::asio::awaitable<Queued> store(const std::string& family,
                                         outbox::NewMessage& message) const;
    /// Stores a push of an endpoint that closes the demand of `reference`,
    /// in place of its correlation: 404 `unknown-reference` without one.
    boost::asio::awaitable<HttpResponse> store_closing(const std::string& family,
                                                       outbox::NewMessage& message,
                                                       std::string reference) const;

    outbox::Outbox& outbox_;
    std::function<void()> wake_;
    const ConnectorServices& services_;
};

}  // namespace relais::server
