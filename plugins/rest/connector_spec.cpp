#include "rest/connector_spec.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "auth/client_registry.hpp"
#include "config/config_document.hpp"
#include "config/upstream_fields.hpp"
#include "rest/response_mapping.hpp"
#include "rest/upstream_spec.hpp"
#include "upstream/http_client.hpp"

namespace relais::rest {

namespace {

using config::find_member;
using config::scalar_text;
using config::text_of;
using rapidjson::Value;

// Where a REST connector file takes what a URL must not hold.
constexpr config::UrlHints url_hints{"put query parameters in the endpoints' request.query",
                                     "use upstream.auth"};

std::string child(std::string pointer, std::string_view key) {
    config::append_pointer_token(pointer, key);
    return pointer;
}

bool bool_of(const Value* v, bool fallback) {
    return v != nullptr && v->IsBool() ? v->GetBool() : fallback;
}

bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Names of maps are checked here rather than with patternProperties, which
// RapidJSON 1.1.0 cannot combine with additionalProperties: false.
bool is_endpoint_name(std::string_view name) {
    return !name.empty() && is_lower_alnum(name.front()) && std::ranges::all_of(name, [](char c) {
        return is_lower_alnum(c) || c == '_' || c == '-';
    });
}

// Parameter names cannot hold braces or ':', so `{name}` and `{body:…}`
// placeholders never clash.
bool is_parameter_name(std::string_view name) {
    return !name.empty() && name.size() <= 64 && (is_alpha(name.front()) || name.front() == '_') &&
           std::ranges::all_of(name, [](char c) {
               return is_alpha(c) || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
           });
}

bool accepts_body(std::string_view method) {
    return method == "POST" || method == "PUT" || method == "PATCH";
}

constexpr std::string_view idempotency_header = "Idempotency-Key";
constexpr const char* async_idempotency_message =
    "relais sets Idempotency-Key on the deliveries of async endpoints (the same value on every "
    "attempt of a push): remove this header";

class Loader {
public:
    Loader(const ConnectorSource& source, const WireFormat& format)
        : source_(source), format_(format) {}

    ConnectorSpec load() {
        ConnectorSpec spec;
        const Value& doc = source_.document;
        if (const Value* upstream = find_member(doc, "upstream")) {
            spec.upstream =
                load_upstream_spec(source_, *upstream, "/upstream", url_hints, format_.accept());
        } else {
            fail("", "missing required property 'upstream'");
        }
        const Value* endpoints = find_member(doc, "endpoints");
        if (endpoints == nullptr || !endpoints->IsObject() || endpoints->MemberCount() == 0) {
            fail("/endpoints", "a rest connector needs at least one endpoint");
        }
        for (const auto& m : endpoints->GetObject()) {
            const std::string name(m.name.GetString(), m.name.GetStringLength());
            if (!is_endpoint_name(name)) {
                fail(child("/endpoints", name),
                     "'" + name +
                         "' is not a valid endpoint name (lower-case letters, digits, '_' and "
                         "'-', starting with a letter or digit)");
            }
            spec.endpoints.push_back(
                load_endpoint(name, m.value, child("/endpoints", name), spec.upstream));
        }
        if (std::ranges::any_of(spec.endpoints, &EndpointSpec::async)) {
            for (const auto& h : spec.upstream.headers) {
                if (iequals_ascii(h.name, idempotency_header)) {
                    fail(child("/upstream/headers", h.name), async_idempotency_message);
                }
            }
        }
        return spec;
    }

private:
    [[noreturn]] void fail(const std::string& pointer, const std::string& message) const {
        throw source_.error_at(pointer, message);
    }

    void load_parameters(const Value& params, const std::string& at, EndpointSpec& e) const {
        for (const auto& m : params.GetObject()) {
            const std::string name(m.name.GetString(), m.name.GetStringLength());
            const std::string pat = child(at, name);
            if (!is_parameter_name(name)) {
                fail(pat, "'" + name +
                              "' is not a valid parameter name (letters, digits, '_', '.' and "
                              "'-', starting with a letter or '_', at most 64 characters)");
            }
            if (auth::is_credential_parameter(name)) {
                fail(pat, "'" + name +
                              "' carries caller credentials and is removed from the query "
                              "before the connector sees it; choose another name");
            }
            const Value& p = m.value;
            ParameterSpec s;
            s.name = name;
            const std::string type = text_of(find_member(p, "type"), "string");
            if (type == "integer") {
                s.type = ParamType::integer;
            } else if (type == "number") {
                s.type = ParamType::number;
            } else if (type == "boolean") {
                s.type = ParamType::boolean;
            }
            s.required = bool_of(find_member(p, "required"), false);
            s.pattern = text_of(find_member(p, "pattern"));
            if (const Value* ml = find_member(p, "max_length"); ml != nullptr && ml->IsUint64()) {
                s.max_length = static_cast<std::size_t>(ml->GetUint64());
            }
            const bool numeric = s.type == ParamType::integer || s.type == ParamType::number;
            for (const char* bound : {"minimum", "maximum"}) {
                const Value* b = find_member(p, bound);
                if (b == nullptr || !b->IsNumber()) {
                    continue;
                }
                if (!numeric) {
                    fail(child(pat, bound),
                         std::string(bound) + " applies to integer and number parameters only");
                }
                // Values are compared as doubles: past 2^53 - 1 a value and
                // its bound could round to the same double.
                constexpr double exact_integers = 9007199254740991.0;
                if (s.type == ParamType::integer && std::fabs(b->GetDouble()) > exact_integers) {
                    fail(child(pat, bound),
                         std::string(bound) +
                             " of an integer parameter must lie within "
                             "-9007199254740991 and 9007199254740991 (2^53 - 1)");
                }
                (std::string_view(bound) == "minimum" ? s.minimum : s.maximum) = b->GetDouble();
            }
            if (s.minimum && s.maximum && *s.minimum > *s.maximum) {
                fail(pat, "minimum is greater than maximum");
            }
            const Value* def = find_member(p, "default");
            if (def != nullptr && s.required) {
                fail(pat + "/required",
                     "a parameter with a default is never missing: remove 'required' or "
                     "'default'");
            }
            std::size_t index = 0;
            try {
                index = e.parameters.add(std::move(s));
            } catch (const std::invalid_argument& err) {
                fail(pat + "/pattern", err.what());
            }
            if (def != nullptr) {
                const std::string text = scalar_text(*def);
                if (text.empty()) {
                    fail(pat + "/default", "an empty default is the same as no default");
                }
                TypedValue typed;
                if (auto reason = e.parameters.check(index, text, typed)) {
                    fail(pat + "/default", "the default " + *reason);
                }
                e.parameters.set_default(index, std::move(typed));
            }
        }
    }

    RefResolver resolver(EndpointSpec& e) const {
        return [&e](std::string_view inside) -> ValueRef {
            if (inside.starts_with("body:")) {
                if (!accepts_body(e.method)) {
                    throw TemplateError("'{" + std::string(inside) +
                                        "}': the endpoint is called with " + e.method +
                                        ", which has no body");
                }
                std::string pointer(inside.substr(5));
                if (pointer == "/") {
                    pointer.clear();
                }
                try {
                    compile_pointer(pointer);
                } catch (const std::invalid_argument& err) {
                    throw TemplateError(err.what());
                }
                e.uses_body = true;
                const auto it = std::ranges::find(e.body_pointer_texts, pointer);
                if (it != e.body_pointer_texts.end()) {
                    return ValueRef{ValueRef::Source::body,
                                    static_cast<std::size_t>(it - e.body_pointer_texts.begin())};
                }
                e.body_pointers.push_back(compile_pointer(pointer));
                e.body_pointer_texts.push_back(std::move(pointer));
                return ValueRef{ValueRef::Source::body, e.body_pointer_texts.size() - 1};
            }
            if (const auto index = e.parameters.find(inside)) {
                return ValueRef{ValueRef::Source::parameter, *index};
            }
            std::string declared;
            for (std::size_t i = 0; i < e.parameters.size(); ++i) {
                declared += (i == 0 ? "" : ", ") + e.parameters[i].name;
            }
            throw TemplateError("'{" + std::string(inside) + "}' names no parameter (declared: " +
                                (declared.empty() ? std::string("none") : declared) + ")");
        };
    }

    void load_request(const Value& r, const std::string& at, EndpointSpec& e) const {
        const RefResolver resolve = resolver(e);
        e.upstream_method = text_of(find_member(r, "method"), e.upstream_method);
        if (const Value* path = find_member(r, "path")) {
            try {
                e.path = PathTemplate::parse(text_of(path), resolve);
            } catch (const TemplateError& err) {
                fail(at + "/path", err.what());
            }
            for (const auto& part : e.path.text().parts()) {
                if (part.ref && part.ref->source == ValueRef::Source::parameter) {
                    const ParameterSpec& p = e.parameters[part.ref->index];
                    if (!p.required && !p.default_value) {
                        fail(at + "/path", "'{" + p.name +
                                               "}' is in the path, so the parameter must be "
                                               "required or have a default");
                    }
                }
            }
        }
        if (const Value* query = find_member(r, "query")) {
            for (const auto& m : query->GetObject()) {
                const std::string key(m.name.GetString(), m.name.GetStringLength());
                if (key.empty()) {
                    fail(at + "/query", "a query parameter needs a name");
                }
                try {
                    e.query.add(key, scalar_text(m.value), resolve);
                } catch (const TemplateError& err) {
                    fail(child(at + "/query", key), err.what());
                }
            }
        }
        if (const Value* headers = find_member(r, "headers")) {
            for (const auto& m : headers->GetObject()) {
                const std::string name(m.name.GetString(), m.name.GetStringLength());
                const std::string hat = child(at + "/headers", name);
                config::check_header_name(source_, name, hat, false);
                try {
                    e.headers.add(name, scalar_text(m.value), resolve);
                } catch (const TemplateError& err) {
                    fail(hat, err.what());
                }
            }
        }
        if (const Value* body = find_member(r, "body")) {
            if (!accepts_body(e.upstream_method)) {
                fail(at + "/body",
                     "a " + e.upstream_method + " request carries no body: use POST, PUT or PATCH");
            }
            try {
                e.body = format_.load_body(*body, resolve);
            } catch (const TemplateError& err) {
                fail(at + "/body", err.what());
            }
            e.body_content_type = format_.content_type();
        }
        format_.load_request_extras(source_, r, at, e);
    }

    // An async endpoint answers 202 at once and is delivered later by the
    // outbox: what only makes sense for an answer to the caller (mapping,
    // cache, error body) or duplicates the outbox (retries) is refused, and
    // both sides must be writes.
    void check_async(const Value& v, const std::string& at, const EndpointSpec& e) const {
        if (!accepts_body(e.method)) {
            fail(at + (find_member(v, "method") != nullptr ? "/method" : "/async"),
                 "an async endpoint is a push: callers must use POST, PUT or PATCH (set "
                 "method)");
        }
        if (find_member(v, "response") != nullptr) {
            fail(at + "/response",
                 "an async endpoint answers 202 with a tracking id, never the upstream's answer: "
                 "remove response (declare callbacks.reference to read the business reference "
                 "from the answer)");
        }
        if (find_member(v, "retries") != nullptr) {
            fail(at + "/retries",
                 "the outbox retries the deliveries of an async endpoint: remove retries and set "
                 "the connector's delivery: policy instead");
        }
        for (const char* key : {"cache_ttl", "cache_size"}) {
            if (find_member(v, key) != nullptr) {
                fail(child(at, key), std::string("an async endpoint's answer is never cached: "
                                                 "remove ") +
                                         key);
            }
        }
        if (find_member(v, "error_body") != nullptr) {
            fail(at + "/error_body",
                 "an async endpoint's upstream errors are never shown to the caller: remove "
                 "error_body");
        }
        const Value* request = find_member(v, "request");
        const Value* method = request != nullptr ? find_member(*request, "method") : nullptr;
        const std::string upstream_method = text_of(method, std::string(format_.default_method()));
        if (upstream_method == "GET" || upstream_method == "HEAD") {
            fail(at + (method != nullptr    ? "/request/method"
                       : request != nullptr ? "/request"
                                            : "/async"),
                 "an async endpoint delivers a push, whose answer nobody reads: set "
                 "request.method to POST, PUT, PATCH or DELETE");
        }
        const Value* headers = request != nullptr ? find_member(*request, "headers") : nullptr;
        if (headers != nullptr && headers->IsObject()) {
            for (const auto& h : headers->GetObject()) {
                const std::string_view header(h.name.GetString(), h.name.GetStringLength());
                if (iequals_ascii(header, idempotency_header)) {
                    fail(child(at + "/request/headers", header), async_idempotency_message);
                }
            }
        }
    }

    EndpointSpec load_endpoint(const std::string& name, const Value& v, const std::string& at,
                               const UpstreamSpec& upstream) const {
        EndpointSpec e;
        e.name = name;
        e.description = text_of(find_member(v, "description"));
        e.method = text_of(find_member(v, "method"), "GET");
        e.upstream_method = format_.default_method();
        e.personal_data = bool_of(find_member(v, "personal_data"), true);
        e.async = bool_of(find_member(v, "async"), false);
        if (e.async) {
            check_async(v, at, e);
        }
        if (const Value* params = find_member(v, "parameters")) {
            load_parameters(*params, at + "/parameters", e);
        }
        if (const Value* schema = find_member(v, "body_schema")) {
            if (!accepts_body(e.method)) {
                fail(at + "/body_schema", "an endpoint called with " + e.method +
                                              " receives no body: set method to POST, PUT "
                                              "or PATCH");
            }
            if (const auto problem = check_body_schema(*schema)) {
                fail(at + "/body_schema" + problem->pointer, problem->message);
            }
            e.body_schema = std::make_unique<const BodySchema>(*schema);
            e.uses_body = true;
        }
        if (const Value* request = find_member(v, "request")) {
            load_request(*request, at + "/request", e);
        }
        e.answer = format_.load_answer(source_, find_member(v, "response"), at + "/response");
        e.timeout = config::positive_duration(source_, find_member(v, "timeout"), upstream.timeout,
                                              at + "/timeout");
        if (const Value* retries = find_member(v, "retries");
            retries != nullptr && retries->IsUint()) {
            e.retries = retries->GetUint();
        }
        if (e.retries > 0 && !e.idempotent && !upstream::is_idempotent(e.upstream_method)) {
            fail(at + "/retries",
                 "retries are allowed only when the upstream request is idempotent (GET, HEAD, "
                 "PUT, DELETE" +
                     std::string(format_.idempotence_hint()) + "): a " + e.upstream_method +
                     " that failed may still have been applied, and a retry would apply it twice");
        }
        if (const Value* ttl = find_member(v, "cache_ttl")) {
            if (e.personal_data) {
                fail(at + "/cache_ttl",
                     "cache_ttl needs 'personal_data: false': answers carrying personal data are "
                     "never stored");
            }
            e.cache_ttl = config::positive_duration(source_, ttl, {}, at + "/cache_ttl");
        }
        if (const Value* size = find_member(v, "cache_size")) {
            if (!e.cache_ttl) {
                fail(at + "/cache_size", "cache_size has no effect without cache_ttl");
            }
            if (size->IsUint64()) {
                e.cache_size = static_cast<std::size_t>(size->GetUint64());
            }
        }
        e.error_body = bool_of(find_member(v, "error_body"), false);
        if (e.error_body && e.personal_data) {
            fail(at + "/error_body",
                 "error_body needs 'personal_data: false': an upstream error body may quote "
                 "personal data");
        }
        return e;
    }

    const ConnectorSource& source_;
    const WireFormat& format_;
};

}  // namespace

ConnectorSpec load_connector_spec(const ConnectorSource& source, const WireFormat& format) {
    return Loader(source, format).load();
}

}  // namespace relais::rest
