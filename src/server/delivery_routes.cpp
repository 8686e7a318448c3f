#include "server/delivery_routes.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

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

namespace relais::server {

namespace {

constexpr std::size_t max_idempotency_key = 255;
constexpr std::size_t max_identifier = 256;

/// A value checked by one of the functions below, or the refusal to send.
template <typename T>
using Checked = std::variant<T, HttpResponse>;

bool parse_object(std::string_view text, rapidjson::Document& doc) {
    return parse_untrusted_json(text, doc) && doc.IsObject();
}

HttpResponse accepted(const std::string& tracking_id) {
    std::string data = "{\"tracking_id\":";
    append_json_string(data, tracking_id);
    data += '}';
    HttpResponse response = HttpResponse::data(data);
    response.status = 202;
    return response;
}

/// The caller's Idempotency-Key, if any and well-formed.
Checked<std::optional<std::string>> idempotency_key(const IncomingRequest& request) {
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
/// top-level member of the JSON body, normalized to end with '/'.
Checked<std::string> demand_url(const CallbackSpec& callbacks, const GruSettings& gru,
                                const IncomingRequest& request) {
    std::optional<std::string> value;
    bool is_string = true;
    if (const std::string* param = find_param(request.query, callbacks.demand_parameter)) {
        value = *param;
    } else if (rapidjson::Document body; parse_object(request.body, body)) {
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

/// A required string member of a report, at most max_identifier bytes.
Checked<std::string> identifier(const rapidjson::Value& report, const char* name) {
    const auto it = report.FindMember(name);
    if (it == report.MemberEnd()) {
        return HttpResponse::failure(ErrorClass::missing_parameter,
                                     std::string("'") + name + "' is required");
    }
    if (!it->value.IsString() || it->value.GetStringLength() == 0 ||
        it->value.GetStringLength() > max_identifier) {
        return HttpResponse::failure(
            ErrorClass::invalid_parameter,
            std::string("'") + name + "' must be a string of 1 to 256 bytes");
    }
    return std::string(it->value.GetString(), it->value.GetStringLength());
}

/// The body relayed to the GRU: reference, status, message and the
/// declared fields, flat. Fails when the report carries anything else.
Checked<std::string> trigger_body(const CallbackSpec& callbacks, const rapidjson::Value& report) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.StartObject();
    for (const char* name : {"reference", "status"}) {
        writer.Key(name);
        report[name].Accept(writer);
    }
    if (const auto message = report.FindMember("message"); message != report.MemberEnd()) {
        if (!message->value.IsString()) {
            return HttpResponse::failure(ErrorClass::invalid_parameter,
                                         "'message' must be a string");
        }
        writer.Key("message");
        message->value.Accept(writer);
    }
    if (const auto fields = report.FindMember("fields"); fields != report.MemberEnd()) {
        if (!fields->value.IsObject()) {
            return HttpResponse::failure(ErrorClass::invalid_parameter,
                                         "'fields' must be an object");
        }
        for (const auto& field : fields->value.GetObject()) {
            const std::string_view name(field.name.GetString(), field.name.GetStringLength());
            if (std::find(callbacks.fields.begin(), callbacks.fields.end(), name) ==
                callbacks.fields.end()) {
                return HttpResponse::failure(
                    ErrorClass::invalid_parameter,
                    "'fields' may hold only the fields declared in callbacks.fields");
            }
            writer.Key(field.name.GetString(), field.name.GetStringLength());
            field.value.Accept(writer);
        }
    }
    for (const auto& member : report.GetObject()) {
        const std::string_view name(member.name.GetString(), member.name.GetStringLength());
        if (name != "reference" && name != "status" && name != "message" && name != "fields") {
            return HttpResponse::failure(
                ErrorClass::invalid_parameter,
                "a report holds reference, status, message and fields, nothing else");
        }
    }
    writer.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
}

HttpResponse outbox_failure(const std::exception& error) {
    log::error("outbox_error", {{"error", error.what()}});
    return HttpResponse::failure(ErrorClass::outbox_unavailable,
                                 "the outbox is unavailable; try again later");
}

/// Reads a Checked value into `out`, or yields its refusal.
template <typename T>
std::optional<HttpResponse> take(Checked<T>&& checked, T& out) {
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
        HttpResponse response = co_await store(entry.family, message);
        co_return response;
    }
    rapidjson::Document call;
    if (!parse_object(request.body, call)) {
        co_return HttpResponse::failure(ErrorClass::invalid_json, "the call must be a JSON object");
    }
    std::string reference;
    if (auto refusal = take(identifier(call, "reference"), reference)) {
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
    if (request.method != "POST") {
        co_return HttpResponse::failure(ErrorClass::method_not_allowed,
                                        "status reports are POSTed");
    }
    if (!request.rest.empty()) {
        co_return HttpResponse::failure(ErrorClass::not_found, "no such endpoint");
    }
    const CallbackSpec& callbacks = *entry.callbacks;
    rapidjson::Document report;
    if (!parse_object(request.body, report)) {
        co_return HttpResponse::failure(ErrorClass::invalid_json,
                                        "the report must be a JSON object");
    }
    std::string reference;
    std::string status;
    std::string body;
    if (auto refusal = take(identifier(report, "reference"), reference)) {
        co_return std::move(*refusal);
    }
    if (auto refusal = take(identifier(report, "status"), status)) {
        co_return std::move(*refusal);
    }
    if (auto refusal = take(trigger_body(callbacks, report), body)) {
        co_return std::move(*refusal);
    }
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
            co_return accepted(*earlier);
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
    envelope.url = *demand + "jump/trigger/" + mapping->second.trigger + "/";
    envelope.body = std::move(body);
    envelope.reference = reference;
    envelope.terminal = mapping->second.terminal;
    outbox::NewMessage message;
    message.kind = outbox::Kind::trigger;
    message.connector = entry.slug;
    message.endpoint = callbacks.endpoint;
    message.request_id = request.request_id;
    message.payload = delivery::encode(envelope);
    message.idempotency = idempotency;
    HttpResponse response = co_await store(entry.family, message);
    co_return response;
}

boost::asio::awaitable<HttpResponse> DeliveryRoutes::store(const std::string& family,
                                                           outbox::NewMessage& message) const {
    try {
        const auto stored = co_await outbox_.enqueue(family, std::move(message));
        if (stored.created) {
            wake_();
        }
        co_return accepted(stored.tracking_id);
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
        co_return accepted(stored->tracking_id);
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
