#include "soap/soap_service.hpp"

#include <algorithm>
#include <utility>
#include <variant>

#include "server/delivery_routes.hpp"
#include "soap/soap_response.hpp"
#include "soap/wsdl_document.hpp"

namespace relais::soap {

namespace {

bool asks_for_wsdl(const QueryParams& query) noexcept {
    return std::any_of(query.begin(), query.end(),
                       [](const auto& param) { return iequals_ascii(param.first, "wsdl"); });
}

HttpResponse xml_answer(SoapVersion version, std::string body) {
    HttpResponse response;
    response.content_type = content_type(version);
    response.body = std::move(body);
    return response;
}

/// The answer to ReportStatus or CreateDemand once the REST route's shared
/// code has queued it (or refused it).
HttpResponse tracked(SoapVersion version, TrackedOperation operation, server::Queued queued) {
    if (auto* refusal = std::get_if<HttpResponse>(&queued)) {
        return as_fault(std::move(*refusal), version);
    }
    return xml_answer(version,
                      write_tracking_answer(version, operation, std::get<std::string>(queued)));
}

}  // namespace

boost::asio::awaitable<HttpResponse> SoapService::serve(SoapCall call) const {
    const IncomingRequest& request = call.request;
    const SoapVersion spoken = call.envelope ? call.envelope->version : version_of(request.headers);
    if (!request.rest.empty()) {
        co_return fault_response(spoken, ErrorClass::not_found, "no such endpoint");
    }
    if ((request.method == "GET" || request.method == "HEAD") && asks_for_wsdl(request.query)) {
        co_return wsdl(call);
    }
    if (request.method != "POST") {
        co_return fault_response(spoken, ErrorClass::method_not_allowed,
                                 "SOAP calls are POSTed; GET ?wsdl gives the WSDL");
    }
    if (call.envelope) {
        SoapRequest envelope = std::move(*call.envelope);
        co_return co_await run(call, std::move(envelope));
    }
    auto read = read_request(request.body, spoken);
    if (const auto* refused = std::get_if<SoapRefusal>(&read)) {
        co_return fault_response(refused->version, refused->error, refused->description);
    }
    co_return co_await run(call, std::move(std::get<SoapRequest>(read)));
}

HttpResponse SoapService::wsdl(const SoapCall& call) const {
    const RelaisConfig& config = call.runtime.config();
    const auto address = service_address(
        config.server.public_url, config.server.tls ? "https" : "http",
        find_header(call.request.headers, "host"), call.entry.kind, call.entry.slug);
    if (!address) {
        return fault_response(version_of(call.request.headers), ErrorClass::bad_request,
                              "the Host header is not host[:port]; set server.public_url");
    }
    HttpResponse response;
    response.content_type = "text/xml; charset=utf-8";
    response.body = wsdl_document(*address);
    return response;
}

boost::asio::awaitable<HttpResponse> SoapService::run(const SoapCall& call,
                                                      SoapRequest envelope) const {
    const SoapVersion version = envelope.version;
    const ConnectorEntry& entry = call.entry;
    if (std::holds_alternative<PingCall>(envelope.operation)) {
        co_return xml_answer(version, write_ping_answer(version, RELAIS_VERSION));
    }
    const bool report = std::holds_alternative<server::StatusReport>(envelope.operation);
    const std::string* route = report ? (entry.callbacks ? &entry.callbacks->endpoint : nullptr)
                                      : (entry.demands ? &entry.demands->endpoint : nullptr);
    if (route == nullptr) {
        co_return fault_response(version, ErrorClass::not_found,
                                 report ? "this connector takes no status reports (no callbacks:)"
                                        : "this connector opens no demands (no demands:)");
    }
    if (!call.granted(*route)) {
        co_return fault_response(version, ErrorClass::not_granted,
                                 "this client is not granted the endpoint this operation uses");
    }
    if (deliveries_ == nullptr) {
        co_return fault_response(version, ErrorClass::outbox_unavailable,
                                 "this server has no outbox");
    }
    if (report) {
        auto queued = co_await deliveries_->relay_report(
            entry, std::move(std::get<server::StatusReport>(envelope.operation)), call.request);
        co_return tracked(version, TrackedOperation::report_status, std::move(queued));
    }
    auto queued = co_await deliveries_->open_demand(
        entry, std::move(std::get<server::DemandCall>(envelope.operation)), call.request);
    co_return tracked(version, TrackedOperation::create_demand, std::move(queued));
}

}  // namespace relais::soap
