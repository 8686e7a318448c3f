#include "mail/inbound_mail.hpp"

#include <rapidjson/document.h>

#include <charconv>
#include <optional>
#include <string>
#include <vector>

#include "core/strings.hpp"
#include "delivery/demand.hpp"
#include "rest/body_json.hpp"

namespace relais::mail {

namespace {

using rapidjson::Value;
using rest::CallError;

/// The value at `where`, or null when it is absent or JSON null.
const Value* find(const BodyValue& where, const Value& body) {
    const Value* v = where.pointer.Get(body);
    return v == nullptr || v->IsNull() ? nullptr : v;
}

template <typename Number>
void append_number(std::string& out, Number n) {
    char buffer[32];
    const auto end = std::to_chars(buffer, buffer + sizeof buffer, n).ptr;
    out.append(buffer, end);
}

void append_scalar(std::string& out, const Value& v) {
    if (v.IsString()) {
        append_json_string(out, std::string_view(v.GetString(), v.GetStringLength()));
    } else if (v.IsBool()) {
        out += v.GetBool() ? "true" : "false";
    } else if (v.IsInt64()) {
        append_number(out, v.GetInt64());
    } else if (v.IsUint64()) {
        append_number(out, v.GetUint64());
    } else {
        append_number(out, v.GetDouble());
    }
}

std::variant<std::string, CallError> reference_of(const BodyValue& where, const Value& body) {
    const Value* v = find(where, body);
    const std::string what = "the mail's reference (" + where.pointer_text + ")";
    if (v == nullptr) {
        return CallError{ErrorClass::missing_parameter, what + " is required"};
    }
    std::string reference;
    if (v->IsString()) {
        reference.assign(v->GetString(), v->GetStringLength());
    } else if (v->IsInt64()) {
        append_number(reference, v->GetInt64());
    } else if (v->IsUint64()) {
        append_number(reference, v->GetUint64());
    } else {
        return CallError{ErrorClass::invalid_parameter, what + " must be a string or an integer"};
    }
    if (reference.empty() || !delivery::is_demand_reference(reference)) {
        return CallError{ErrorClass::invalid_parameter,
                         what + " must be " + std::string(delivery::demand_reference_rule)};
    }
    return reference;
}

/// Refuses a document that is absent or not a string (the splitter found
/// none at the pointer); the splitter has checked a string's characters.
std::optional<CallError> document_refusal(const BodyValue& where, const SplitBody& body,
                                          const Value& json) {
    const Value* v = find(where, json);
    const std::string what = document_subject(where);
    if (v == nullptr) {
        return CallError{ErrorClass::missing_parameter, what + " is required"};
    }
    if (!v->IsString() || !body.document_found) {
        return CallError{ErrorClass::invalid_parameter, what + " must be a base64 string"};
    }
    return std::nullopt;
}

std::variant<std::string_view, CallError> filename_of(const InboundSpec& inbound,
                                                      const Value& body) {
    const Value* v = inbound.filename ? find(*inbound.filename, body) : nullptr;
    if (v == nullptr) {
        return default_filename;
    }
    const auto refusal = [&] {
        return CallError{ErrorClass::invalid_parameter,
                         "the file name (" + inbound.filename->pointer_text +
                             ") must be a string of 1 to 255 bytes without '/', '\\' or control "
                             "characters"};
    };
    if (!v->IsString()) {
        return refusal();
    }
    const std::string_view name(v->GetString(), v->GetStringLength());
    if (name.empty() || name.size() > max_filename_bytes || has_control_chars(name) ||
        name.find_first_of("/\\") != std::string_view::npos) {
        return refusal();
    }
    return name;
}

/// Each metadata value (null when absent), or the first of the wrong shape.
std::variant<std::vector<const Value*>, CallError> metadata_of(const InboundSpec& inbound,
                                                               const Value& body) {
    std::vector<const Value*> values;
    values.reserve(inbound.metadata.size());
    for (const auto& m : inbound.metadata) {
        const Value* v = find(m.value, body);
        if (v != nullptr && (v->IsObject() || v->IsArray())) {
            return CallError{ErrorClass::invalid_parameter,
                             "metadata '" + m.name + "' (" + m.value.pointer_text +
                                 ") must be a string, a number or a boolean"};
        }
        values.push_back(v);
    }
    return values;
}

}  // namespace

std::variant<ReceivedMail, CallError> read_mail(const InboundSpec& inbound,
                                                const DemandSpec& demand, const SplitBody& body) {
    // Parsed in place in a copy: the skeleton is small, the document's
    // text is not in it.
    std::string text(body.skeleton);
    rapidjson::Document json;
    if (const auto parsed = rest::parse_json(text, json); !parsed || !json.IsObject()) {
        return CallError{ErrorClass::invalid_json,
                         describe(parsed ? JsonFault::not_object : parsed.fault, "the body")};
    }
    auto reference = reference_of(inbound.reference, json);
    if (auto* error = std::get_if<CallError>(&reference)) {
        return std::move(*error);
    }
    if (auto error = document_refusal(inbound.document, body, json)) {
        return std::move(*error);
    }
    auto filename = filename_of(inbound, json);
    if (auto* error = std::get_if<CallError>(&filename)) {
        return std::move(*error);
    }
    auto metadata = metadata_of(inbound, json);
    if (auto* error = std::get_if<CallError>(&metadata)) {
        return std::move(*error);
    }
    const std::vector<const Value*>& values = std::get<std::vector<const Value*>>(metadata);

    std::string data = "{";
    append_json_string(data, demand.document_field);
    data += R"(:{"filename":)";
    append_json_string(data, std::get<std::string_view>(filename));
    data += R"(,"content_type":"application/pdf","b64_content":")";
    const std::size_t document_at = data.size();
    data += "\"},";
    append_json_string(data, demand.reference_field);
    data += ':';
    append_json_string(data, std::get<std::string>(reference));
    for (const auto& field : demand.fields) {
        if (const Value* v = values[field.metadata]) {
            data += ',';
            append_json_string(data, field.varname);
            data += ':';
            append_scalar(data, *v);
        }
    }
    data += '}';

    ReceivedMail mail;
    mail.demand.formdef = demand.formdef;
    mail.demand.data_json = std::move(data);
    mail.demand.channel = demand.channel;
    mail.demand.reference = std::move(std::get<std::string>(reference));
    mail.demand.document_at = document_at;
    mail.document_bytes = body.document_bytes;
    return mail;
}

}  // namespace relais::mail
