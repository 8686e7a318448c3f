#include "mail/inbound_mail.hpp"

#include <rapidjson/document.h>

#include <charconv>
#include <optional>
#include <string>
#include <vector>

#include "core/strings.hpp"
#include "delivery/demand.hpp"
#include "mail/base64_text.hpp"
#include "rest/body_json.hpp"

namespace relais::mail {

namespace {

using rapidjson::Value;
using rest::CallError;

constexpr std::string_view pdf_magic = "%PDF-";

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

/// The document's base64 text, as it is in the body, and its decoded size.
struct Document {
    std::string_view base64;
    std::size_t bytes = 0;
};

std::variant<Document, CallError> document_of(const InboundSpec& inbound, const Value& body) {
    const Value* v = find(inbound.document, body);
    const std::string what = "the document (" + inbound.document.pointer_text + ")";
    if (v == nullptr) {
        return CallError{ErrorClass::missing_parameter, what + " is required"};
    }
    if (!v->IsString()) {
        return CallError{ErrorClass::invalid_parameter, what + " must be a base64 string"};
    }
    const std::string_view text(v->GetString(), v->GetStringLength());
    const std::optional<std::size_t> bytes = strict_base64_size(text);
    if (!bytes) {
        return CallError{ErrorClass::invalid_parameter,
                         what +
                             " must be base64: the standard alphabet, with '=' padding, "
                             "without spaces or line breaks"};
    }
    if (*bytes > inbound.max_document_bytes) {
        return CallError{
            ErrorClass::payload_too_large,
            "the document is larger than " + std::to_string(inbound.max_document_bytes) + " bytes"};
    }
    if (!base64_starts_with(text, pdf_magic)) {
        return CallError{ErrorClass::invalid_parameter,
                         what + " must be a PDF (its bytes start with %PDF-)"};
    }
    return Document{text, *bytes};
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
                                                const DemandSpec& demand, std::string_view body) {
    // Parsed in place, in one copy of the body: the document's strings, the
    // base64 text among them, then point into that copy instead of being
    // copied once more into the document's allocator.
    std::string text(body);
    rapidjson::Document json;
    if (!rest::parse_json(text, json) || !json.IsObject()) {
        return CallError{ErrorClass::invalid_json, "the body is not a JSON object"};
    }
    auto reference = reference_of(inbound.reference, json);
    if (auto* error = std::get_if<CallError>(&reference)) {
        return std::move(*error);
    }
    auto document = document_of(inbound, json);
    if (auto* error = std::get_if<CallError>(&document)) {
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
    const Document& pdf = std::get<Document>(document);
    const std::vector<const Value*>& values = std::get<std::vector<const Value*>>(metadata);

    // Everything but the base64 text is written first, so that the data is
    // then allocated once at its final size and the text copied into it once.
    std::string head = "{";
    append_json_string(head, demand.document_field);
    head += R"(:{"filename":)";
    append_json_string(head, std::get<std::string_view>(filename));
    head += R"(,"content_type":"application/pdf","b64_content":")";
    std::string tail = "\"},";
    append_json_string(tail, demand.reference_field);
    tail += ':';
    append_json_string(tail, std::get<std::string>(reference));
    for (const auto& field : demand.fields) {
        if (const Value* v = values[field.metadata]) {
            tail += ',';
            append_json_string(tail, field.varname);
            tail += ':';
            append_scalar(tail, *v);
        }
    }
    tail += '}';
    std::string data;
    data.reserve(head.size() + pdf.base64.size() + tail.size());
    // The base64 alphabet needs no JSON escaping.
    data.append(head).append(pdf.base64).append(tail);

    ReceivedMail mail;
    mail.demand.formdef = demand.formdef;
    mail.demand.data_json = std::move(data);
    mail.demand.channel = demand.channel;
    mail.demand.reference = std::move(std::get<std::string>(reference));
    mail.document_bytes = pdf.bytes;
    return mail;
}

}  // namespace relais::mail
