#include "rest/endpoint.hpp"

#include <rapidjson/document.h>

#include "core/digest.hpp"
#include "core/log.hpp"
#include "core/url_encoding.hpp"

namespace relais::rest {

namespace {

// Canonical, unambiguous: a length prefix per value, a marker for absence.
void append_key_part(std::string& key, const std::optional<TypedValue>& value) {
    if (!value) {
        key += '-';
        return;
    }
    key += std::to_string(value->text.size());
    key += ':';
    key += value->text;
}

}  // namespace

std::optional<CallError> prepare_call(const UpstreamSpec& upstream, const EndpointSpec& endpoint,
                                      const IncomingRequest& request, PreparedCall& out) {
    if (request.method != endpoint.method) {
        return CallError{ErrorClass::method_not_allowed,
                         "this endpoint is called with " + endpoint.method};
    }
    if (!request.rest.empty()) {
        return CallError{ErrorClass::not_found, "this endpoint takes no path after its name"};
    }

    std::vector<std::optional<TypedValue>> parameters;
    if (auto error = endpoint.parameters.bind(request.query, parameters)) {
        return error;
    }

    rapidjson::Document body;
    std::vector<const rapidjson::Value*> body_values;
    if (endpoint.uses_body) {
        if (auto error = parse_body(request.body, endpoint.body_schema.get(), body)) {
            return error;
        }
        body_values.reserve(endpoint.body_pointers.size());
        for (const auto& pointer : endpoint.body_pointers) {
            body_values.push_back(pointer.Get(body));
        }
    }
    const CallValues values{endpoint.parameters, parameters, endpoint.body_pointer_texts,
                            body_values};

    out.url = upstream.base_url;
    if (!endpoint.path.empty()) {
        if (out.url.back() != '/') {
            out.url.push_back('/');
        }
        if (auto error = endpoint.path.append_to(out.url, values)) {
            return error;
        }
    }
    if (auto error = endpoint.query.append_to(out.url, values)) {
        return error;
    }

    if (auto error = endpoint.headers.append_to(out.headers, values)) {
        return error;
    }
    if (endpoint.body) {
        if (auto error = endpoint.body->render(values, out.body)) {
            return error;
        }
        if (find_header(out.headers, "Content-Type") == nullptr &&
            find_header(upstream.headers, "Content-Type") == nullptr) {
            out.headers.push_back(Header{"Content-Type", endpoint.body_content_type});
        }
    }

    if (endpoint.cache_ttl) {
        std::string key;
        for (const auto& value : parameters) {
            append_key_part(key, value);
        }
        if (endpoint.uses_body) {
            key += std::to_string(request.body.size());
            key += ':';
            key += request.body;
        }
        // The cache keeps digests rather than the values: entries stay small
        // however long the parameters or the body.
        const Sha256 digest = sha256(key);
        out.cache_key.assign(digest.begin(), digest.end());
    }
    if (!endpoint.personal_data && log::enabled(log::Level::debug)) {
        for (std::size_t i = 0; i < parameters.size(); ++i) {
            if (!parameters[i]) {
                continue;
            }
            if (!out.loggable_parameters.empty()) {
                out.loggable_parameters += '&';
            }
            out.loggable_parameters += endpoint.parameters[i].name;
            out.loggable_parameters += '=';
            append_form_encoded(out.loggable_parameters, parameters[i]->text);
        }
    }
    return std::nullopt;
}

}  // namespace relais::rest
