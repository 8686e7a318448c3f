#include "server/business_messages.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <initializer_list>

#include "core/json.hpp"
#include "delivery/demand.hpp"

namespace relais::server {

namespace {

constexpr std::size_t max_identifier = 256;

std::string_view view(const rapidjson::Value& value) {
    return {value.GetString(), value.GetStringLength()};
}

std::string serialized(const rapidjson::Value& value) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    value.Accept(writer);
    return {buffer.GetString(), buffer.GetSize()};
}

HttpResponse invalid(std::string_view description) {
    return HttpResponse::failure(ErrorClass::invalid_parameter, description);
}

HttpResponse reference_refusal() {
    return invalid("'reference' must be a string of " +
                   std::string(delivery::demand_reference_rule));
}

HttpResponse identifier_refusal(std::string_view name) {
    return invalid("'" + std::string(name) + "' must be a string of 1 to 256 bytes");
}

/// Reads a JSON object member by member into a T with `read(out, name,
/// value)`, which returns a refusal or nullopt. A body that is no JSON
/// object is refused as invalid-json (its message about `subject`, "the
/// report"), a member not in `known` with `unknown` (invalid-parameter).
template <typename T, typename Read>
ReadOrRefused<T> read_object(std::string_view body, std::string_view subject,
                             std::initializer_list<std::string_view> known,
                             std::string_view unknown, Read&& read) {
    rapidjson::Document doc;
    if (const auto parsed = parse_untrusted_object(body, doc); !parsed) {
        return HttpResponse::failure(ErrorClass::invalid_json, describe(parsed.fault, subject));
    }
    T out;
    for (const auto& member : doc.GetObject()) {
        const std::string_view name = view(member.name);
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            return invalid(unknown);
        }
        if (auto refusal = read(out, name, member.value)) {
            return std::move(*refusal);
        }
    }
    return out;
}

/// `fields` as named values; `accepts` says which JSON values may be one.
template <typename Accepts>
std::optional<HttpResponse> read_fields(const rapidjson::Value& fields,
                                        std::vector<NamedValue>& out, Accepts&& accepts,
                                        std::string_view refusal) {
    if (!fields.IsObject()) {
        return invalid("'fields' must be an object");
    }
    for (const auto& field : fields.GetObject()) {
        if (!accepts(field.value)) {
            return invalid(refusal);
        }
        out.push_back({std::string(view(field.name)), serialized(field.value)});
    }
    return std::nullopt;
}

/// Only `declared` names, each once.
std::optional<HttpResponse> check_fields(const std::vector<NamedValue>& fields,
                                         const std::vector<std::string>& declared,
                                         std::string_view section) {
    for (auto it = fields.begin(); it != fields.end(); ++it) {
        if (std::find(declared.begin(), declared.end(), it->name) == declared.end()) {
            return invalid("'fields' may hold only the fields declared in " + std::string(section) +
                           ".fields");
        }
        const auto same_name = [&](const NamedValue& other) { return other.name == it->name; };
        if (std::any_of(fields.begin(), it, same_name)) {
            return invalid("'fields' names a field twice");
        }
    }
    return std::nullopt;
}

std::optional<HttpResponse> check_identifier(const std::optional<std::string>& value,
                                             std::string_view name) {
    if (!value) {
        return HttpResponse::failure(ErrorClass::missing_parameter,
                                     "'" + std::string(name) + "' is required");
    }
    if (value->empty() || value->size() > max_identifier) {
        return identifier_refusal(name);
    }
    return std::nullopt;
}

void append_members(std::string& out, const std::vector<NamedValue>& fields) {
    for (const NamedValue& field : fields) {
        if (out.size() > 1) {
            out += ',';
        }
        append_json_string(out, field.name);
        out += ':';
        out += field.json;
    }
}

}  // namespace

ReadOrRefused<std::string> read_identifier(const rapidjson::Value& object, std::string_view name) {
    std::optional<std::string> value;
    const auto it = object.FindMember(rapidjson::StringRef(name.data(), name.size()));
    if (it != object.MemberEnd()) {
        if (!it->value.IsString()) {
            return identifier_refusal(name);
        }
        value.emplace(view(it->value));
    }
    if (auto refusal = check_identifier(value, name)) {
        return std::move(*refusal);
    }
    return std::move(*value);
}

ReadOrRefused<StatusReport> read_report_json(std::string_view body) {
    return read_object<StatusReport>(
        body, "the report", {"reference", "status", "message", "fields"},
        "a report holds reference, status, message and fields, nothing else",
        [](StatusReport& report, std::string_view name,
           const rapidjson::Value& value) -> std::optional<HttpResponse> {
            if (name == "fields") {
                return read_fields(
                    value, report.fields, [](const rapidjson::Value&) { return true; }, "");
            }
            if (!value.IsString()) {
                return name == "message" ? invalid("'message' must be a string")
                                         : identifier_refusal(name);
            }
            auto& slot = name == "reference" ? report.reference
                         : name == "status"  ? report.status
                                             : report.message;
            slot.emplace(view(value));
            return std::nullopt;
        });
}

ReadOrRefused<DemandCall> read_demand_json(std::string_view body) {
    return read_object<DemandCall>(
        body, "the demand", {"reference", "fields"},
        "a demand holds reference and fields, nothing else",
        [](DemandCall& demand, std::string_view name,
           const rapidjson::Value& value) -> std::optional<HttpResponse> {
            if (name == "fields") {
                return read_fields(
                    value, demand.fields,
                    [](const rapidjson::Value& v) {
                        return v.IsString() || v.IsNumber() || v.IsBool() || v.IsNull();
                    },
                    "'fields' values must be strings, numbers, booleans or null");
            }
            if (!value.IsString()) {
                return reference_refusal();
            }
            demand.reference.emplace(view(value));
            return std::nullopt;
        });
}

std::optional<HttpResponse> check_report(const CallbackSpec& callbacks,
                                         const StatusReport& report) {
    if (auto refusal = check_identifier(report.reference, "reference")) {
        return refusal;
    }
    if (auto refusal = check_identifier(report.status, "status")) {
        return refusal;
    }
    return check_fields(report.fields, callbacks.fields, "callbacks");
}

std::optional<HttpResponse> check_demand(const DemandSpec& demands, const DemandCall& demand) {
    if (demand.reference &&
        (demand.reference->empty() || !delivery::is_demand_reference(*demand.reference))) {
        return reference_refusal();
    }
    return check_fields(demand.fields, demands.fields, "demands");
}

std::string trigger_body(const StatusReport& report) {
    std::string out = "{\"reference\":";
    append_json_string(out, report.reference.value_or(""));
    out += ",\"status\":";
    append_json_string(out, report.status.value_or(""));
    if (report.message) {
        out += ",\"message\":";
        append_json_string(out, *report.message);
    }
    append_members(out, report.fields);
    out += '}';
    return out;
}

std::string demand_data(const DemandCall& demand) {
    std::string out = "{";
    append_members(out, demand.fields);
    out += '}';
    return out;
}

}  // namespace relais::server
