#include "server/delivery_routes.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <exception>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/digest.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/url_encoding.hpp"
#include "delivery/demand.hpp"
#include "delivery/envelope.hpp"
#include "outbox/message_json.hpp"
#include "outbox/outbox.hpp"
#include "server/business_messages.hpp"

namespace relais::server {

namespace {

constexpr std::size_t max_idempotency_key = 255;

/// 202 with the tracking id of a queued message, or the refusal.
HttpResponse answer(Queued queued) {
    if (auto* refusal = std::get_if<HttpResponse>(&queued)) {
        return std::move(*refusal);
    }
    return HttpResponse::accepted(std::get<std::string>(queued));
}

/// The caller's Idempotency-Key, if any and well-formed.
ReadOrRefused<std::optional<std::string>> idempotency_key(const IncomingRequest& request) {
    const std::string* key = find_header(request.headers, "idempotency-key");
    if (key == nullptr) {
        return std::nullopt;
    }
    const bool visible = std::all_of(key->begin(), key->end(), [](char c) {
        return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
    });
    if (key->empty() || key->size() > max_idempotency_key || !visible) {
        return HttpResponse::failure(ErrorClass::invalid_parameter,
                                     "Idempotency-Key must be 1 to 255 visible ASCII characters");
    }
    return *key;
}

/// The URL of the GRU demand a push belongs to: a query parameter or a
/// top-level member of the JSON body, normalized to end with '/'. The body
/// is only read here: what the connector makes of it is its own affair.
ReadOrRefused<std::string> demand_url(const CallbackSpec& callbacks, const GruSettings& gru,
                                      const IncomingRequest& request) {
    std::optional<std::string> value;
    bool is_string = true;
    if (const std::string* param = find_param(request.query, callbacks.demand_parameter)) {
        value = *param;
    } else if (rapidjson::Document body;
               parse_untrusted_object(request.body, body, InexactNumbers::as_text)) {
        const auto it = body.FindMember(callbacks.demand_parameter.c_str());
        if (it != body.MemberEnd()) {
            is_string = it->value.IsString();
            if (is_string) {
                value.emplace(it->value.GetString(), it->value.GetStringLength());
            }
        }
    }
    const std::string description = "'" + callbacks.demand_parameter + "'";
    if (!value && is_string) {
        return HttpResponse::failure(ErrorClass::missing_parameter,
                                     description + " (the URL of the GRU demand) is required");
    }
    if (!value || !delivery::is_demand_url(*value, gru.url)) {
        return HttpResponse::failure(ErrorClass::invalid_parameter,
                                     description + " must be the URL of a demand under gru.url");
    }
    if (!value->ends_with('/')) {
        *value += '/';
    }
    return std::move(*value);
}

/// A report or a demand: JSON POSTed to the route itself, read by `read`.
template <typename T>
ReadOrRefused<T> read_posted(const IncomingRequest& request, std::string_view not_posted,
                             ReadOrRefused<T> (*read)(std::string_view)) {
    if (request.method != "POST") {
        return HttpResponse::failure(ErrorClass::method_not_allowed, not_posted);
    }
    if (!request.rest.empty()) {
        return HttpResponse::failure(ErrorClass::not_found, "no such endpoint");
    }
    return read(request.body);
}

HttpResponse outbox_failure(const std::exception& error) {
    log::error("outbox_error", {{"error", error.what()}});
    return HttpResponse::failure(ErrorClass::outbox_unavailable,
                                 "the outbox is unavailable; try again later");
}

/// Reads a Checked value into `out`, or yields its refusal.
template <typename T>
std::optional<HttpResponse> take(ReadOrRefused<T>&& checked, T& out) {
    if (auto* refusal = std::get_if<HttpResponse>(&checked)) {
        return std::move(*refusal);
    }
    out = std::move(std::get<T>(checked));
    return std::nullopt;
}

/// 32 lower-case hex digits, as the outbox makes them.
bool is_tracking_id(std::string_view id) {
    return id.size() == 32 && std::all_of(id.begin(), id.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

}  // namespace

boost::asio::awaitable<HttpResponse> DeliveryRoutes::push(const Runtime& runtime,
                                                          const ConnectorEntry& entry,
                                                          std::size_t index,
                                                          const IncomingRequest& request) const {
    auto prepared = entry.connector->prepare_push(index, request);
    if (auto* refusal = std::get_if<HttpResponse>(&prepared)) {
        co_return std::move(*refusal);
    }
    delivery::PushEnvelope envelope;
    envelope.message = std::move(std::get<PushMessage>(prepared));
    if (entry.callbacks && runtime.config().gru) {
        if (auto refusal = take(demand_url(*entry.callbacks, *runtime.config().gru, request),
                                envelope.demand_url)) {
            co_return std::move(*refusal);
        }
    }
    std::optional<std::string> key;
    if (auto refusal = take(idempotency_key(request), key)) {
        co_return std::move(*refusal);
    }
    outbox::NewMessage message;
    message.kind = outbox::Kind::push;
    message.connector = entry.slug;
    message.endpoint = entry.connector->endpoints()[index].name;
    message.request_id = request.request_id;
    message.payload = delivery::encode(envelope);
    if (key) {
        message.idempotency = outbox::idempotency_digest("push", request.client, *key);
    }
    if (!entry.connector->endpoints()[index].closes_demand) {
        co_return answer(co_await store(entry.family, message));
    }
    rapidjson::Document call;
    if (const auto parsed = parse_untrusted_object(request.body, call); !parsed) {
        co_return HttpResponse::failure(ErrorClass::invalid_json,
                                        describe(parsed.fault, "the call"));
    }
    std::string reference;
    if (auto refusal = take(read_identifier(call, "reference"), reference)) {
        co_return std::move(*refusal);
    }
    // A demand is closed once, whatever Idempotency-Key each call carries:
    // the GRU's workflow calling again gets the first answer.
    message.idempotency = outbox::idempotency_digest("close", reference, "");
    HttpResponse response = co_await store_closing(entry.family, message, std::move(reference));
    co_return response;
}

boost::asio::awaitable<HttpResponse> DeliveryRoutes::report(const ConnectorEntry& entry,
                                                            const IncomingRequest& request) const {
    auto read = read_posted(request, "status reports are POSTed", &read_report_json);
    if (auto* refusal = std::get_if<HttpResponse>(&read)) {
        co_return std::move(*refusal);
    }
    co_return answer(
        co_await relay_report(entry, std::move(std::get<StatusReport>(read)), request));
}

boost::asio::awaitable<Queued> DeliveryRoutes::relay_report(const ConnectorEntry& entry,
                                                            StatusReport report,
                                                            const IncomingRequest& request) const {
    const CallbackSpec& callbacks = *entry.callbacks;
    if (auto refusal = check_report(callbacks, report)) {
        co_return std::move(*refusal);
    }
    const std::string& reference = *report.reference;
    const std::string& status = *report.status;
    const auto mapping = callbacks.statuses.find(status);
    if (mapping == callbacks.statuses.end()) {
        co_return HttpResponse::failure(ErrorClass::unknown_status,
                                        "the status is not one of callbacks.statuses");
    }
    std::optional<std::string> key;
    if (auto refusal = take(idempotency_key(request), key)) {
        co_return std::move(*refusal);
    }
    // Without a key from the caller, a report is the same report when it says
    // the same status for the same reference. A replay gets the first
    // report's tracking id and relays nothing, even once a terminal status
    // has closed the correlation.
    const std::string idempotency =
        key ? outbox::idempotency_digest("report-key", request.client, *key)
            : outbox::idempotency_digest("report", reference, status);
    std::optional<std::string> demand;
    try {
        if (const auto earlier =
                co_await outbox_.find_idempotent(entry.family, entry.slug, idempotency)) {
            co_return std::move(*earlier);
        }
        demand = co_await outbox_.find_correlation(entry.family, entry.slug, reference);
    } catch (const std::exception& error) {
        co_return outbox_failure(error);
    }
    if (!demand) {
        co_return HttpResponse::failure(ErrorClass::unknown_reference,
                                        "no demand is known for this reference");
    }
    delivery::TriggerEnvelope envelope;
    envelope.url = delivery::trigger_url(*demand, mapping->second.trigger);
    envelope.body = trigger_body(report);
    envelope.reference = reference;
    envelope.terminal = mapping->second.terminal;
    outbox::NewMessage message;
    message.kind = outbox::Kind::trigger;
    message.connector = entry.slug;
    message.endpoint = callbacks.endpoint;
    message.request_id = request.request_id;
    message.payload = delivery::encode(envelope);
    message.idempotency = idempotency;
    // w.c.s. must see a demand's statuses in the order they were reported,
    // even when one of them waits to be retried.
    message.sequence = outbox::idempotency_digest("sequence", *demand, "");
    Queued queued = co_await store(entry.family, message);
    co_return queued;
}

boost::asio::awaitable<HttpResponse> DeliveryRoutes::demand(const ConnectorEntry& entry,
                                                            const IncomingRequest& request) const {
    auto read = read_posted(request, "demands are POSTed", &read_demand_json);
    if (auto* refusal = std::get_if<HttpResponse>(&read)) {
        co_return std::move(*refusal);
    }
    co_return answer(co_await open_demand(entry, std::move(std::get<DemandCall>(read)), request));
}

boost::asio::awaitable<Queued> DeliveryRoutes::open_demand(const ConnectorEntry& entry,
                                                           DemandCall call,
                                                           const IncomingRequest& request) const {
    const DemandSpec& spec = *entry.demands;
    if (auto refusal = check_demand(spec, call)) {
        co_return std::move(*refusal);
    }
    GruDemand demand;
    demand.formdef = spec.formdef;
    demand.channel = spec.channel;
    demand.data_json = demand_data(call);
    demand.request_id = request.request_id;
    demand.reference = call.reference.value_or("");
    const auto tracking_id =
        co_await services_.submit_demand(entry.slug, entry.family, std::move(demand));
    if (!tracking_id) {
        // submit_demand logged why; what it refuses was checked above, so
        // what is left is the outbox.
        co_return HttpResponse::failure(ErrorClass::outbox_unavailable,
                                        "the outbox is unavailable; try again later");
    }
    co_return std::move(*tracking_id);
}

boost::asio::awaitable<Queued> DeliveryRoutes::store(const std::string& family,
                                                     outbox::NewMessage& message) const {
    try {
        const auto stored = co_await outbox_.enqueue(family, std::move(message));
        if (stored.created) {
            wake_();
        }
        co_return std::move(stored.tracking_id);
    } catch (const std::exception& error) {
        co_return outbox_failure(error);
    }
}

boost::asio::awaitable<HttpResponse> DeliveryRoutes::store_closing(const std::string& family,
                                                                   outbox::NewMessage& message,
                                                                   std::string reference) const {
    try {
        const auto stored =
            co_await outbox_.enqueue_closing(family, std::move(message), std::move(reference));
        if (!stored) {
            co_return HttpResponse::failure(ErrorClass::unknown_reference,
                                            "no open demand has this reference");
        }
        if (stored->created) {
            wake_();
        }
        co_return HttpResponse::accepted(stored->tracking_id);
    } catch (const std::exception& error) {
        co_return outbox_failure(error);
    }
}

boost::asio::awaitable<HttpResponse> DeliveryRoutes::status(
    std::string_view method, std::string_view tracking_id,
    std::span<const ConnectorEntry* const> owners) const {
    if (method != "GET" && method != "HEAD") {
        co_return HttpResponse::failure(ErrorClass::method_not_allowed,
                                        "deliveries are read with GET");
    }
    const auto not_found = [] {
        return HttpResponse::failure(ErrorClass::not_found, "no such delivery");
    };
    if (!is_tracking_id(tracking_id)) {
        co_return not_found();
    }
    std::vector<std::string> families;
    for (const ConnectorEntry* owner : owners) {
        if (std::find(families.begin(), families.end(), owner->family) == families.end()) {
            families.push_back(owner->family);
        }
    }
    const std::string id(tracking_id);
    try {
        for (const std::string& family : families) {
            const auto info = co_await outbox_.find(family, id);
            if (!info) {
                continue;
            }
            const bool owned = std::any_of(owners.begin(), owners.end(), [&](const auto* owner) {
                return owner->family == family && owner->slug == info->connector;
            });
            if (owned) {
                co_return HttpResponse::data(outbox::to_json(*info, outbox::Audience::caller));
            }
        }
    } catch (const std::exception& error) {
        co_return outbox_failure(error);
    }
    co_return not_found();
}

}  // namespace relais::server
