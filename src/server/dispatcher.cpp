#include "server/dispatcher.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "auth/client_registry.hpp"
#include "auth/nonce_cache.hpp"
#include "core/exception_type.hpp"
#include "core/log.hpp"
#include "server/delivery_routes.hpp"
#include "server/request_target.hpp"
#include "soap/soap_response.hpp"
#include "soap/soap_service.hpp"

namespace relais::server {

namespace {

/// A slot in a connector's concurrency budget, held while it runs.
class ConcurrencySlot {
public:
    ConcurrencySlot(std::atomic<unsigned>& in_flight, unsigned limit) noexcept
        : in_flight_(in_flight),
          admitted_(in_flight.fetch_add(1, std::memory_order_acq_rel) < limit) {
        if (!admitted_) {
            in_flight_.fetch_sub(1, std::memory_order_acq_rel);
        }
    }
    ~ConcurrencySlot() {
        if (admitted_) {
            in_flight_.fetch_sub(1, std::memory_order_acq_rel);
        }
    }
    ConcurrencySlot(const ConcurrencySlot&) = delete;
    ConcurrencySlot& operator=(const ConcurrencySlot&) = delete;

    bool admitted() const noexcept { return admitted_; }

private:
    std::atomic<unsigned>& in_flight_;
    const bool admitted_;
};

HttpResponse no_outbox() {
    return HttpResponse::failure(ErrorClass::outbox_unavailable, "this server has no outbox");
}

/// /{kind}/{slug}/soap: the SOAP service's path, which answers faults. Known
/// from the path alone, so that a caller learns nothing from the form of an
/// authentication failure.
bool is_soap_path(const std::vector<std::string>& segments) noexcept {
    return segments.size() == 3 && segments[2] == soap_route;
}

/// A SOAP caller without HTTP credentials may carry a WS-Security
/// UsernameToken in its envelope: read the envelope to find it. On success
/// the envelope is kept for the route, and `soap` says its version.
void authenticate_envelope(const auth::ClientRegistry& clients, const auth::CallerInfo& caller,
                           auth::NonceCache& nonces, const std::string& body,
                           auth::AuthResult& result, std::shared_ptr<soap::SoapRequest>& envelope,
                           std::optional<soap::SoapVersion>& soap) {
    auto read = soap::read_request(body, *soap);
    auto* request = std::get_if<soap::SoapRequest>(&read);
    if (request == nullptr || !request->username_token) {
        return;
    }
    soap = request->version;
    result = clients.authenticate_username_token(*request->username_token, caller, nonces);
    envelope = std::make_shared<soap::SoapRequest>(std::move(*request));
}

/// 429 with the seconds until the address may call again, rounded up.
HttpResponse too_many_requests(AddressLimiter::Clock::duration wait) {
    HttpResponse response = HttpResponse::failure(
        ErrorClass::too_many_requests, "too many requests from this address; try again later");
    const auto seconds = std::chrono::ceil<std::chrono::seconds>(wait).count();
    response.headers.push_back(
        Header{"Retry-After", std::to_string(std::max<long long>(seconds, 1))});
    return response;
}

HttpResponse json_page(unsigned status, std::string body) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

}  // namespace

HttpResponse Dispatcher::admin_page(std::string_view method,
                                    const std::vector<std::string>& segments) const {
    if (segments.size() != 2) {
        return HttpResponse::failure(ErrorClass::not_found, "no such admin page");
    }
    const std::string& page = segments[1];
    if (page != "health" && page != "ready" && page != "metrics") {
        return HttpResponse::failure(ErrorClass::not_found, "no such admin page");
    }
    if (method != "GET" && method != "HEAD") {
        return HttpResponse::failure(ErrorClass::method_not_allowed, "admin pages accept GET only");
    }
    if (page == "health") {
        return json_page(200, R"({"status":"ok"})");
    }
    if (page == "ready") {
        if (draining_.load(std::memory_order_acquire)) {
            return HttpResponse::failure(ErrorClass::shutting_down, "the server is shutting down");
        }
        return json_page(200, R"({"status":"ready"})");
    }
    HttpResponse r = json_page(200, metrics_.render());
    r.content_type = metrics_content_type;
    return r;
}

boost::asio::awaitable<HttpResponse> Dispatcher::serve_route(const Runtime& runtime,
                                                             const ConnectorEntry& entry,
                                                             std::size_t index,
                                                             const IncomingRequest& request,
                                                             const Caller& caller) const {
    const auto endpoints = entry.connector->endpoints();
    if (index < endpoints.size() && !endpoints[index].async) {
        co_return co_await entry.connector->handle(index, request);
    }
    const std::string_view route =
        index < endpoints.size() ? std::string_view() : entry.core_routes[index - endpoints.size()];
    if (route == soap_route) {
        const auth::ClientRegistry& clients = runtime.clients();
        soap::SoapCall call{runtime, entry, request,
                            [&](std::string_view name) {
                                return caller.client != nullptr &&
                                       clients.granted(*caller.client, entry, name);
                            },
                            std::nullopt};
        if (caller.envelope) {
            call.envelope = std::move(*caller.envelope);
        }
        co_return co_await soap::SoapService(deliveries_).serve(std::move(call));
    }
    if (deliveries_ == nullptr) {
        co_return no_outbox();
    }
    if (index < endpoints.size()) {
        co_return co_await deliveries_->push(runtime, entry, index, request);
    }
    if (route == deliveries_route) {
        const ConnectorEntry* const owner = &entry;
        const std::span<const ConnectorEntry* const> owners(&owner, 1);
        co_return co_await deliveries_->status(request.method, request.rest, owners);
    }
    if (entry.demands && route == entry.demands->endpoint) {
        co_return co_await deliveries_->demand(entry, request);
    }
    co_return co_await deliveries_->report(entry, request);
}

boost::asio::awaitable<Outcome> Dispatcher::dispatch(RawRequest request) const {
    std::optional<soap::SoapVersion> soap;
    Outcome out = co_await route(std::move(request), soap);
    if (soap) {
        out.response = soap::as_fault(std::move(out.response), *soap);
    }
    co_return out;
}

HttpResponse Dispatcher::refusal(ErrorClass error, std::string_view description,
                                 std::string_view target,
                                 const std::vector<Header>& headers) const {
    const auto parsed = parse_target(target);
    if (parsed && is_soap_path(parsed->segments)) {
        return soap::fault_response(soap::version_of(headers), error, description);
    }
    return HttpResponse::failure(error, description);
}

boost::asio::awaitable<Outcome> Dispatcher::route(RawRequest request,
                                                  std::optional<soap::SoapVersion>& soap) const {
    Outcome out;
    out.state = slot_.load();
    auto target = parse_target(request.target);
    if (!target) {
        out.response = HttpResponse::failure(ErrorClass::bad_request,
                                             "the request target is not a valid path and query");
        co_return out;
    }
    const bool relais_page = !target->segments.empty() && target->segments.front() == "_relais";
    // /_relais/deliveries/{id} speaks about a client's messages: it is
    // authenticated like a connector route; the other pages are not.
    const bool delivery_page =
        relais_page && target->segments.size() == 3 && target->segments[1] == deliveries_route;
    if (relais_page && !delivery_page) {
        out.labels.admin = true;
        out.response = admin_page(request.method, target->segments);
        co_return out;
    }

    const ServingState& state = *out.state;
    const Runtime& runtime = state.runtime();
    const auth::ClientRegistry& clients = runtime.clients();
    const auth::CallerInfo caller{target->raw_query, request.headers, request.remote,
                                  std::chrono::system_clock::now()};
    auto auth = clients.authenticate(caller, nonces_);
    std::shared_ptr<soap::SoapRequest> envelope;
    if (is_soap_path(target->segments)) {
        soap = soap::version_of(request.headers);
        if (auth.error == ErrorClass::missing_credentials && request.method == "POST") {
            authenticate_envelope(clients, caller, nonces_, request.body, auth, envelope, soap);
        }
    }
    if (auth.error || auth.client == nullptr) {
        const auto error = auth.error.value_or(ErrorClass::invalid_credentials);
        // A browser endpoint is the one thing a caller without credentials
        // may reach; to it, any other route answers as before: 401.
        if (error == ErrorClass::missing_credentials && !delivery_page) {
            auto routed = resolve(state, std::move(target->segments), out.labels);
            if (auto* found = std::get_if<Routed>(&routed); found != nullptr && found->browser) {
                out.labels.reason.clear();
                const ServerLimits& limits = runtime.config().server.limits;
                if (const auto wait =
                        anonymous_.take(request.remote, limits.anonymous_per_second,
                                        limits.anonymous_burst, AddressLimiter::Clock::now())) {
                    out.response = too_many_requests(*wait);
                    co_return out;
                }
                QueryParams query = decode_query(target->raw_query);
                Caller nobody;
                co_await serve(out, runtime, *found, std::move(request), std::move(query),
                               std::move(nobody));
                co_return out;
            }
            out.labels = RequestLabels{};
        }
        out.labels.reason = std::move(auth.reason);
        out.response = HttpResponse::failure(
            error, out.labels.reason.empty() ? describe(error).slug : out.labels.reason);
        co_return out;
    }
    const auth::Client& client = *auth.client;
    out.labels.client = auth::ClientRegistry::name(client);
    if (delivery_page) {
        out.labels.endpoint = deliveries_route;
        if (deliveries_ == nullptr) {
            out.response = no_outbox();
            co_return out;
        }
        std::vector<const ConnectorEntry*> owners;
        for (const auto& entry : runtime.connectors()) {
            if (entry->has_async && clients.granted(client, *entry, deliveries_route)) {
                owners.push_back(entry.get());
            }
        }
        const std::span<const ConnectorEntry* const> searched(owners);
        out.response = co_await deliveries_->status(request.method, target->segments[2], searched);
        co_return out;
    }

    auto routed = resolve(state, std::move(target->segments), out.labels);
    if (auto* refusal = std::get_if<HttpResponse>(&routed)) {
        out.response = std::move(*refusal);
        co_return out;
    }
    auto& found = std::get<Routed>(routed);
    if (found.index < found.entry->connector->endpoints().size()) {
        // A connector's own endpoint named `soap` (one without callbacks:
        // and demands:) answers as it likes, and a UsernameToken is no
        // credential for it.
        soap.reset();
        if (envelope) {
            out.labels = RequestLabels{};
            out.response = HttpResponse::failure(ErrorClass::missing_credentials,
                                                 describe(ErrorClass::missing_credentials).slug);
            co_return out;
        }
    }
    if (!clients.granted(client, *found.entry, out.labels.endpoint)) {
        out.response = HttpResponse::failure(ErrorClass::not_granted,
                                             "this client is not granted this endpoint");
        co_return out;
    }
    QueryParams query = decode_query(target->raw_query);
    // Named, not a braced temporary in the co_await: GCC 12 destroys such
    // a temporary twice, which released the envelope twice (plugins.md).
    Caller authenticated{&client, out.labels.client, std::move(envelope)};
    co_await serve(out, runtime, found, std::move(request), std::move(query),
                   std::move(authenticated));
    co_return out;
}

BodyPolicy Dispatcher::body_policy(std::string_view target) const {
    const auto state = slot_.load();
    const Runtime& runtime = state->runtime();
    auto parsed = parse_target(target);
    std::optional<RoutePath> route;
    if (parsed) {
        route = route_of(std::move(parsed->segments));
    }
    if (!route) {
        return BodyPolicy{runtime.config().server.limits.body_bytes, false};
    }
    return runtime.body_policy(route->kind, route->slug, route->endpoint);
}

std::variant<Dispatcher::Routed, HttpResponse> Dispatcher::resolve(
    const ServingState& state, std::vector<std::string> segments, RequestLabels& labels) const {
    auto route = route_of(std::move(segments));
    if (!route) {
        return HttpResponse::failure(ErrorClass::not_found,
                                     "routes are /{kind}/{connector}/{endpoint}[/{rest}]");
    }
    const ConnectorEntry* entry = state.runtime().find(route->kind, route->slug);
    if (entry == nullptr) {
        return HttpResponse::failure(ErrorClass::not_found, "no such connector");
    }
    labels.kind = entry->kind;
    labels.connector = entry->slug;
    const auto found = entry->endpoint_index.find(route->endpoint);
    if (found == entry->endpoint_index.end()) {
        return HttpResponse::failure(ErrorClass::not_found, "no such endpoint");
    }
    const std::size_t index = found->second;
    labels.endpoint = found->first;
    labels.metrics = &state.route_metrics(*entry, index);
    const auto endpoints = entry->connector->endpoints();
    const EndpointInfo* info = index < endpoints.size() ? &endpoints[index] : nullptr;
    return Routed{entry, index, std::move(route->rest), info != nullptr && info->browser,
                  info != nullptr && info->streams_body()};
}

boost::asio::awaitable<void> Dispatcher::serve(Outcome& out, const Runtime& runtime, Routed& found,
                                               RawRequest request, QueryParams query,
                                               Caller caller) const {
    const ConnectorEntry& entry = *found.entry;
    const ConcurrencySlot slot(out.state->in_flight(entry), entry.max_concurrency);
    if (!slot.admitted()) {
        out.response = HttpResponse::failure(ErrorClass::overloaded,
                                             "too many requests in progress for this connector");
        co_return;
    }

    // The body was left on the wire for an endpoint that took it as it
    // arrives; a reload since the head was read may have changed that.
    if (request.body_reader != nullptr && !found.streams_body) {
        out.response =
            HttpResponse::failure(ErrorClass::overloaded,
                                  "the configuration changed while the request was read; "
                                  "send it again");
        co_return;
    }

    IncomingRequest incoming;
    incoming.method = std::move(request.method);
    incoming.rest = std::move(found.rest);
    incoming.query = std::move(query);
    std::erase_if(incoming.query,
                  [](const auto& param) { return auth::is_credential_parameter(param.first); });
    // The caller's credentials are relais's business, never an upstream's.
    incoming.headers = std::move(request.headers);
    std::erase_if(incoming.headers,
                  [](const Header& h) { return iequals_ascii(h.name, "authorization"); });
    incoming.body = std::move(request.body);
    incoming.body_reader = request.body_reader;
    incoming.request_id = std::move(request.request_id);
    incoming.client = caller.name;

    try {
        out.response = co_await serve_route(runtime, entry, found.index, incoming, caller);
    } catch (...) {
        log::error("connector_exception", {{"request_id", incoming.request_id},
                                           {"connector", entry.slug},
                                           {"endpoint", out.labels.endpoint},
                                           {"type", current_exception_type()}});
        out.response = HttpResponse::failure(ErrorClass::internal_error, "the connector failed");
    }
    if (out.response.status < 200 || out.response.status > 599) {
        log::error("connector_bad_status", {{"request_id", incoming.request_id},
                                            {"connector", entry.slug},
                                            {"endpoint", out.labels.endpoint},
                                            {"status", out.response.status}});
        out.response = HttpResponse::failure(ErrorClass::internal_error, "the connector failed");
    }
}

}  // namespace relais::server
