#pragma once
/// @file
/// Turns a request read off the wire into a response, without any socket:
/// admin pages under `/_relais/`, then for everything else authentication,
/// routing, grants, the connector's concurrency limit and the connector.
///
/// The order is fixed and part of the external contract: an unauthenticated
/// caller learns nothing about routes (401/403 before any 404).

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/http_types.hpp"
#include "server/address_limiter.hpp"
#include "server/metrics.hpp"
#include "server/serving_state.hpp"

namespace relais::auth {
class Client;
class NonceCache;
}  // namespace relais::auth

namespace relais::soap {
enum class SoapVersion;
struct SoapRequest;
}  // namespace relais::soap

namespace relais::server {

class DeliveryRoutes;

/// A request as read off the wire, before any interpretation.
struct RawRequest {
    std::string method;  ///< as sent ("GET", "POST"...)
    std::string target;  ///< origin-form target, path and query
    std::vector<Header> headers;
    std::string body;
    /// Set instead of `body` for a route that streams its body; valid
    /// until dispatch() returns.
    BodyReader* body_reader = nullptr;
    boost::asio::ip::address remote;
    std::string request_id;  ///< see request_id_from()
};

/// What a request's log line and metrics may say about it: names from the
/// configuration only, never from the request itself.
struct RequestLabels {
    std::string_view client = "-";
    std::string_view kind = "-";
    std::string_view connector = "-";
    std::string_view endpoint = "-";
    RouteMetrics* metrics = nullptr;  ///< null: counted as unrouted
    std::string reason;               ///< log-safe reason of an authentication failure
    bool admin = false;               ///< a `/_relais/` page: not counted, logged at debug
};

/// A response and what to log about it. The labels' views point into the
/// state's runtime, which `state` keeps alive until the outcome is dropped.
struct Outcome {
    HttpResponse response;
    RequestLabels labels;
    std::shared_ptr<const ServingState> state;
};

class Dispatcher {
public:
    /// `draining` is read by `/_relais/ready`. Without `deliveries`, async
    /// endpoints and the delivery routes answer 503 `outbox-unavailable`.
    /// Every reference must outlive the dispatcher.
    Dispatcher(const StateSlot& slot, const MetricsRegistry& metrics, auth::NonceCache& nonces,
               const std::atomic<bool>& draining,
               const DeliveryRoutes* deliveries = nullptr) noexcept
        : slot_(slot),
          metrics_(metrics),
          nonces_(nonces),
          draining_(draining),
          deliveries_(deliveries) {}

    /// Serves one request on the state current at its start. Never throws
    /// for request errors: they become envelope failures; an exception from
    /// a connector becomes 500 `internal-error`. A request for
    /// /{kind}/{slug}/soap gets its failures as SOAP faults
    /// (docs/soap-service.md), authentication failures included.
    boost::asio::awaitable<Outcome> dispatch(RawRequest request) const;

    /// `error` as the server answers a request it could not read whole
    /// (too large, too slow...): a SOAP fault for a `target` of the SOAP
    /// service (in the version `headers` announce), else the REST envelope.
    HttpResponse refusal(ErrorClass error, std::string_view description, std::string_view target,
                         const std::vector<Header>& headers) const;

    /// How to read the body of the route `target` names: the limit that
    /// bounds what the connection reads, and whether the endpoint takes
    /// the body as it arrives.
    BodyPolicy body_policy(std::string_view target) const;

private:
    /// A route resolved to a connector endpoint.
    struct Routed {
        const ConnectorEntry* entry;
        std::size_t index;
        std::string rest;
        bool browser;       ///< EndpointInfo::browser: reachable without credentials
        bool streams_body;  ///< EndpointInfo::streams_body(): takes its body as it arrives
    };

    /// What dispatch() does, but failures stay in the REST envelope; sets
    /// `soap` when the request speaks SOAP (so that they become faults).
    boost::asio::awaitable<Outcome> route(RawRequest request,
                                          std::optional<soap::SoapVersion>& soap) const;

    /// The endpoint `segments` name, or the 404 to answer. Fills the
    /// labels it learns on the way.
    std::variant<Routed, HttpResponse> resolve(const ServingState& state,
                                               std::vector<std::string> segments,
                                               RequestLabels& labels) const;
    /// Who a routed request is served for: an authenticated client (null
    /// for a browser without credentials) and, for the SOAP service, the
    /// envelope already read to authenticate it.
    struct Caller {
        const auth::Client* client = nullptr;
        std::string_view name;
        std::shared_ptr<soap::SoapRequest> envelope;
    };
    /// Runs `found` under its connector's concurrency limit into `out`.
    /// `query` is the request's, decoded before `request` was moved: a view
    /// into its target would not survive the move.
    boost::asio::awaitable<void> serve(Outcome& out, const Runtime& runtime, Routed& found,
                                       RawRequest request, QueryParams query, Caller caller) const;
    HttpResponse admin_page(std::string_view method,
                            const std::vector<std::string>& segments) const;
    /// A connector's route: an endpoint of the connector or a route of the core.
    boost::asio::awaitable<HttpResponse> serve_route(const Runtime& runtime,
                                                     const ConnectorEntry& entry, std::size_t index,
                                                     const IncomingRequest& request,
                                                     const Caller& caller) const;

    const StateSlot& slot_;
    const MetricsRegistry& metrics_;
    auth::NonceCache& nonces_;
    const std::atomic<bool>& draining_;
    const DeliveryRoutes* deliveries_;
    /// Calls to browser endpoints without credentials, per address; lives
    /// as long as the server, across reloads.
    mutable AddressLimiter anonymous_;
};

}  // namespace relais::server
