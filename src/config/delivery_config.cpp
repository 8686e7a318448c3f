#include "config/delivery_config.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <string_view>

#include "config/config_document.hpp"
#include "core/duration.hpp"

namespace relais::config {

namespace {

/// Names the relayed trigger body uses itself: a declared field must not
/// shadow them.
constexpr std::array<std::string_view, 3> reserved_fields{"reference", "status", "message"};

const rapidjson::Value* member(const rapidjson::Value& object, const char* name) {
    if (!object.IsObject()) {
        return nullptr;
    }
    const auto it = object.FindMember(name);
    return it == object.MemberEnd() ? nullptr : &it->value;
}

std::string text(const rapidjson::Value& value) {
    return {value.GetString(), value.GetStringLength()};
}

void read_duration(const rapidjson::Value& object, const char* name,
                   std::chrono::milliseconds& out) {
    if (const auto* v = member(object, name); v != nullptr && v->IsString()) {
        if (const auto parsed = parse_duration(text(*v))) {
            out = *parsed;
        }
    }
}

void read_string(const rapidjson::Value& object, const char* name, std::string& out) {
    if (const auto* v = member(object, name); v != nullptr && v->IsString()) {
        out = text(*v);
    }
}

void read_strings(const rapidjson::Value& object, const char* name, std::vector<std::string>& out) {
    if (const auto* v = member(object, name); v != nullptr && v->IsArray()) {
        for (const auto& item : v->GetArray()) {
            if (item.IsString()) {
                out.push_back(text(item));
            }
        }
    }
}

void read_unsigned(const rapidjson::Value& object, const char* name, unsigned& out) {
    if (const auto* v = member(object, name); v != nullptr && v->IsUint()) {
        out = v->GetUint();
    }
}

DeliveryPolicy read_policy(const rapidjson::Value& d) {
    DeliveryPolicy policy;
    read_unsigned(d, "max_attempts", policy.max_attempts);
    read_duration(d, "max_age", policy.max_age);
    read_duration(d, "initial_backoff", policy.initial_backoff);
    read_duration(d, "max_backoff", policy.max_backoff);
    read_unsigned(d, "concurrency", policy.concurrency);
    return policy;
}

CallbackSpec read_callbacks(const rapidjson::Value& c) {
    CallbackSpec spec;
    read_string(c, "endpoint", spec.endpoint);
    read_string(c, "demand", spec.demand_parameter);
    read_string(c, "reference", spec.reference_pointer);
    read_strings(c, "fields", spec.fields);
    if (const auto* v = member(c, "statuses"); v != nullptr && v->IsObject()) {
        for (const auto& status : v->GetObject()) {
            StatusMapping mapping;
            read_string(status.value, "trigger", mapping.trigger);
            if (const auto* t = member(status.value, "terminal"); t != nullptr && t->IsBool()) {
                mapping.terminal = t->GetBool();
            }
            spec.statuses.emplace(text(status.name), std::move(mapping));
        }
    }
    return spec;
}

DemandSpec read_demands(const rapidjson::Value& d) {
    DemandSpec spec;
    read_string(d, "endpoint", spec.endpoint);
    read_string(d, "formdef", spec.formdef);
    read_string(d, "channel", spec.channel);
    read_strings(d, "fields", spec.fields);
    return spec;
}

void add_core_routes(ConnectorEntry& entry) {
    if (entry.has_async) {
        entry.core_routes.emplace_back(deliveries_route);
    }
    if (entry.callbacks) {
        entry.core_routes.push_back(entry.callbacks->endpoint);
    }
    if (entry.demands) {
        entry.core_routes.push_back(entry.demands->endpoint);
    }
    if (entry.callbacks || entry.demands) {
        entry.core_routes.emplace_back(soap_route);
    }
    const std::size_t first = entry.connector->endpoints().size();
    for (std::size_t i = 0; i < entry.core_routes.size(); ++i) {
        entry.endpoint_index.emplace(entry.core_routes[i], first + i);
    }
}

/// Checks that a route the core adds under `section` (`callbacks` or
/// `demands`) takes no name already used; `taken` are the names the core
/// adds before it.
void check_route_name(const ConfigDocument& doc, const ConnectorEntry& entry,
                      const rapidjson::Value& section, const char* name, const std::string& route,
                      std::initializer_list<std::string_view> taken,
                      std::vector<ConfigError>& errors) {
    const bool collides = entry.endpoint_index.contains(route) ||
                          std::find(taken.begin(), taken.end(), route) != taken.end();
    if (!collides) {
        return;
    }
    const std::string section_pointer = std::string("/") + name;
    errors.emplace_back(
        doc.values, section.HasMember("endpoint") ? section_pointer + "/endpoint" : section_pointer,
        std::string(name) + ".endpoint: '" + route +
            "' is already a route of this connector; name the endpoint otherwise");
}

void read_callbacks_section(const ConfigDocument& doc, const RelaisConfig& config,
                            const rapidjson::Value& c, bool has_demands, ConnectorEntry& entry,
                            std::vector<ConfigError>& errors) {
    CallbackSpec spec = read_callbacks(c);
    if (!entry.has_async && !has_demands) {
        errors.emplace_back(doc.values, "/callbacks",
                            "callbacks: need an endpoint with async: true or a demands: section "
                            "(correlations are recorded when pushes are delivered or demands "
                            "opened)");
    }
    if (!config.gru) {
        errors.emplace_back(doc.values, "/callbacks",
                            "callbacks: need a gru: section in relais.yaml (the GRU core the "
                            "statuses are relayed to)");
    }
    check_route_name(doc, entry, c, "callbacks", spec.endpoint, {deliveries_route, soap_route},
                     errors);
    for (std::size_t i = 0; i < spec.fields.size(); ++i) {
        if (std::find(reserved_fields.begin(), reserved_fields.end(), spec.fields[i]) !=
            reserved_fields.end()) {
            errors.emplace_back(doc.values, "/callbacks/fields/" + std::to_string(i),
                                "callbacks.fields: '" + spec.fields[i] +
                                    "' is reserved (reference, status and message are always "
                                    "relayed)");
        }
    }
    entry.callbacks = std::move(spec);
}

void read_demands_section(const ConfigDocument& doc, const RelaisConfig& config,
                          const rapidjson::Value& d, ConnectorEntry& entry,
                          std::vector<ConfigError>& errors) {
    DemandSpec spec = read_demands(d);
    if (!config.gru) {
        errors.emplace_back(doc.values, "/demands",
                            "demands: need a gru: section in relais.yaml (the GRU core the "
                            "demands are opened in)");
    }
    const std::string callbacks_route = entry.callbacks ? entry.callbacks->endpoint : "";
    check_route_name(doc, entry, d, "demands", spec.endpoint,
                     {deliveries_route, soap_route, callbacks_route}, errors);
    entry.demands = std::move(spec);
}

bool read_sections(const ConfigDocument& doc, const RelaisConfig& config, ConnectorEntry& entry,
                   std::vector<ConfigError>& errors) {
    const std::size_t before = errors.size();
    const auto endpoints = entry.connector->endpoints();
    entry.has_async =
        std::any_of(endpoints.begin(), endpoints.end(), [](const auto& e) { return e.async; });
    if (const auto* d = member(doc.json, "delivery")) {
        entry.delivery = read_policy(*d);
        if (entry.delivery.initial_backoff > entry.delivery.max_backoff) {
            errors.emplace_back(doc.values, "/delivery/initial_backoff",
                                "delivery.initial_backoff: expected at most max_backoff");
        }
    }
    if (entry.has_async && entry.endpoint_index.contains(std::string(deliveries_route))) {
        errors.emplace_back(doc.values, "/endpoints/deliveries",
                            "endpoint 'deliveries': the name is taken by GET "
                            "/{kind}/{slug}/deliveries/{tracking_id} on connectors with async "
                            "endpoints");
    }
    const auto* callbacks = member(doc.json, "callbacks");
    const auto* demands = member(doc.json, "demands");
    if ((callbacks != nullptr || demands != nullptr) &&
        entry.endpoint_index.contains(std::string(soap_route))) {
        errors.emplace_back(doc.values, "/endpoints/soap",
                            "endpoint 'soap': the name is taken by relais's SOAP service on "
                            "connectors with callbacks: or demands:");
    }
    if (callbacks != nullptr) {
        read_callbacks_section(doc, config, *callbacks, demands != nullptr, entry, errors);
    }
    if (demands != nullptr) {
        read_demands_section(doc, config, *demands, entry, errors);
    }
    if (errors.size() != before) {
        return false;
    }
    add_core_routes(entry);
    return true;
}

}  // namespace

bool read_delivery_config(const ConfigDocument& doc, const RelaisConfig& config,
                          ConnectorEntry& entry, std::vector<ConfigError>& errors) {
    const auto first = static_cast<std::ptrdiff_t>(errors.size());
    const bool ok = read_sections(doc, config, entry, errors);
    // Reported in the order of the file, like the schema's errors.
    std::stable_sort(errors.begin() + first, errors.end(), [](const auto& a, const auto& b) {
        return std::pair(a.position().line, a.position().column) <
               std::pair(b.position().line, b.position().column);
    });
    return ok;
}

}  // namespace relais::config
