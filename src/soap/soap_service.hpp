#pragma once
/// @file
/// relais's SOAP service, the core route `soap` of every connector that
/// declares `callbacks:` or `demands:` (docs/soap-service.md): GET ?wsdl
/// gives the WSDL; a POSTed envelope runs ReportStatus, CreateDemand or
/// Ping, each exactly as the REST route it mirrors (same checks, same
/// outbox, same error classes), and answers in the caller's SOAP version.
/// Every failure is a fault.

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <optional>
#include <string_view>

#include "core/http_types.hpp"
#include "core/runtime.hpp"
#include "soap/soap_message.hpp"

namespace relais::server {
class DeliveryRoutes;
}

namespace relais::soap {

/// A call routed to a connector's `soap` route, its client authenticated
/// and granted `soap`.
struct SoapCall {
    const Runtime& runtime;
    const ConnectorEntry& entry;
    const IncomingRequest& request;
    /// Whether the client is granted route `name` of the connector: each
    /// operation also needs the route it mirrors.
    std::function<bool(std::string_view name)> granted;
    /// The envelope, when the server already read it (to find a
    /// UsernameToken); otherwise it is read from `request.body`.
    std::optional<SoapRequest> envelope;
};

class SoapService {
public:
    /// Without `deliveries` (no outbox), ReportStatus and CreateDemand
    /// answer a fault `outbox-unavailable`. `deliveries` must outlive the
    /// service.
    explicit SoapService(const server::DeliveryRoutes* deliveries) noexcept
        : deliveries_(deliveries) {}

    boost::asio::awaitable<HttpResponse> serve(SoapCall call) const;

private:
    HttpResponse wsdl(const SoapCall& call) const;
    boost::asio::awaitable<HttpResponse> run(const SoapCall& call, SoapRequest envelope) const;

    const server::DeliveryRoutes* deliveries_;
};

}  // namespace relais::soap
