#include "mail/mail_spec.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <stdexcept>
#include <variant>

#include "config/config_document.hpp"
#include "config/upstream_fields.hpp"
#include "rest/response_mapping.hpp"

namespace relais::mail {

namespace {

using config::find_member;
using config::text_of;
using rapidjson::Value;

// Where a mail connector file takes what a base URL must not hold.
constexpr config::UrlHints url_hints{"notify.path is appended to base_url", "use upstream.auth"};

constexpr std::string_view idempotency_header = "Idempotency-Key";
constexpr const char* idempotency_message =
    "relais sets Idempotency-Key on every notification (the same value on every attempt): "
    "remove this header";

std::string child(std::string pointer, std::string_view key) {
    config::append_pointer_token(pointer, key);
    return pointer;
}

class Loader {
public:
    explicit Loader(const ConnectorSource& source) : source_(source) {}

    MailSpec load() {
        MailSpec spec;
        const Value& doc = source_.document;
        spec.upstream = rest::load_upstream_spec(source_, required(doc, "upstream", ""),
                                                 "/upstream", url_hints);
        for (const auto& h : spec.upstream.headers) {
            if (iequals_ascii(h.name, idempotency_header)) {
                fail(child("/upstream/headers", h.name), idempotency_message);
            }
        }
        load_inbound(required(doc, "inbound", ""), spec.inbound);
        load_demand(required(doc, "demand", ""), spec.inbound, spec.demand);
        load_notify(required(doc, "notify", ""), spec.upstream, spec.notify);
        return spec;
    }

private:
    [[noreturn]] void fail(const std::string& pointer, const std::string& message) const {
        throw source_.error_at(pointer, message);
    }

    // The schema requires them; a document that skipped it (unit tests)
    // still gets an error rather than a crash.
    const Value& required(const Value& object, const char* name, const std::string& at) const {
        const Value* v = find_member(object, name);
        if (v == nullptr) {
            fail(at, std::string("missing required property '") + name + "'");
        }
        return *v;
    }

    BodyValue body_value(const Value& v, const std::string& at) const {
        std::string text = text_of(&v);
        if (text.empty()) {
            fail(at, "point at a value inside the body, e.g. /id ('' is the whole body)");
        }
        try {
            rapidjson::Pointer pointer = rest::compile_pointer(text);
            return BodyValue{std::move(text), std::move(pointer)};
        } catch (const std::invalid_argument& err) {
            fail(at, err.what());
        }
    }

    void load_inbound(const Value& v, InboundSpec& inbound) const {
        const std::string at = "/inbound";
        if (const Value* m = find_member(v, "max_document_bytes"); m != nullptr && m->IsUint64()) {
            inbound.max_document_bytes = static_cast<std::size_t>(m->GetUint64());
        }
        inbound.reference = body_value(required(v, "reference", at), at + "/reference");
        inbound.document = body_value(required(v, "document", at), at + "/document");
        if (const Value* f = find_member(v, "filename")) {
            inbound.filename = body_value(*f, at + "/filename");
        }
        if (const Value* metadata = find_member(v, "metadata"); metadata != nullptr) {
            for (const auto& m : metadata->GetObject()) {
                std::string name(m.name.GetString(), m.name.GetStringLength());
                BodyValue value = body_value(m.value, child(at + "/metadata", name));
                inbound.metadata.push_back(
                    InboundSpec::Metadata{std::move(name), std::move(value)});
            }
        }
    }

    void load_demand(const Value& v, const InboundSpec& inbound, DemandSpec& demand) const {
        const std::string at = "/demand";
        demand.formdef = text_of(find_member(v, "formdef"));
        demand.channel = text_of(find_member(v, "channel"), demand.channel);
        demand.document_field = text_of(find_member(v, "document_field"));
        demand.reference_field = text_of(find_member(v, "reference_field"));
        if (demand.formdef.empty() || demand.document_field.empty() ||
            demand.reference_field.empty()) {
            fail(at, "a demand needs formdef, document_field and reference_field");
        }
        if (demand.reference_field == demand.document_field) {
            fail(at + "/reference_field",
                 "the reference and the document need two different fields: change "
                 "reference_field or document_field");
        }
        const Value* fields = find_member(v, "fields");
        if (fields == nullptr) {
            return;
        }
        for (const auto& m : fields->GetObject()) {
            const std::string varname(m.name.GetString(), m.name.GetStringLength());
            const std::string fat = child(at + "/fields", varname);
            if (varname == demand.document_field || varname == demand.reference_field) {
                fail(fat, "'" + varname + "' already receives the " +
                              (varname == demand.document_field ? "document" : "reference") +
                              ": fill another field");
            }
            const std::string name = text_of(&m.value);
            const auto found =
                std::ranges::find(inbound.metadata, name, &InboundSpec::Metadata::name);
            if (found == inbound.metadata.end()) {
                std::string declared;
                for (const auto& meta : inbound.metadata) {
                    declared += (declared.empty() ? "" : ", ") + meta.name;
                }
                fail(fat, "'" + name + "' is not declared under inbound.metadata (declared: " +
                              (declared.empty() ? std::string("none") : declared) + ")");
            }
            demand.fields.push_back(DemandSpec::Field{
                varname, static_cast<std::size_t>(found - inbound.metadata.begin())});
        }
    }

    static rest::RefResolver resolver(NotifySpec& notify) {
        return [&notify](std::string_view inside) -> rest::ValueRef {
            if (inside == "reference") {
                return rest::ValueRef{rest::ValueRef::Source::parameter, 0};
            }
            if (!inside.starts_with("body:")) {
                throw rest::TemplateError("'{" + std::string(inside) +
                                          "}' is not a placeholder of notify: use {reference} or "
                                          "{body:/pointer}");
            }
            std::string pointer(inside.substr(5));
            if (pointer == "/") {
                pointer.clear();
            }
            const auto it = std::ranges::find(notify.body_pointer_texts, pointer);
            if (it != notify.body_pointer_texts.end()) {
                return rest::ValueRef{
                    rest::ValueRef::Source::body,
                    static_cast<std::size_t>(it - notify.body_pointer_texts.begin())};
            }
            try {
                notify.body_pointers.push_back(rest::compile_pointer(pointer));
            } catch (const std::invalid_argument& err) {
                throw rest::TemplateError(err.what());
            }
            notify.body_pointer_texts.push_back(std::move(pointer));
            return rest::ValueRef{rest::ValueRef::Source::body, notify.body_pointers.size() - 1};
        };
    }

    void load_notify(const Value& v, const rest::UpstreamSpec& upstream, NotifySpec& notify) const {
        const std::string at = "/notify";
        notify.method = text_of(find_member(v, "method"), notify.method);
        rest::ParameterSpec reference;
        reference.name = "reference";
        reference.required = true;
        notify.parameters.add(std::move(reference));
        const rest::RefResolver resolve = resolver(notify);
        if (const Value* path = find_member(v, "path")) {
            try {
                notify.path = rest::PathTemplate::parse(text_of(path), resolve);
            } catch (const rest::TemplateError& err) {
                fail(at + "/path", err.what());
            }
        }
        const bool has_auth = !std::holds_alternative<upstream::NoAuth>(upstream.auth);
        if (const Value* headers = find_member(v, "headers")) {
            for (const auto& m : headers->GetObject()) {
                const std::string name(m.name.GetString(), m.name.GetStringLength());
                const std::string hat = child(at + "/headers", name);
                config::check_header_name(source_, name, hat, has_auth);
                if (iequals_ascii(name, idempotency_header)) {
                    fail(hat, idempotency_message);
                }
                try {
                    notify.headers.add(name, config::scalar_text(m.value), resolve);
                } catch (const rest::TemplateError& err) {
                    fail(hat, err.what());
                }
            }
        }
        if (const Value* body = find_member(v, "body")) {
            try {
                notify.body = rest::JsonTemplate::parse(*body, resolve);
            } catch (const rest::TemplateError& err) {
                fail(at + "/body", err.what());
            }
        }
    }

    const ConnectorSource& source_;
};

}  // namespace

MailSpec load_mail_spec(const ConnectorSource& source) {
    return Loader(source).load();
}

std::size_t max_mail_body_bytes(std::size_t max_document_bytes) noexcept {
    return 4 * ((max_document_bytes + 2) / 3) + metadata_allowance;
}

}  // namespace relais::mail
