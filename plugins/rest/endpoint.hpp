#pragma once
/// @file
/// One endpoint of a connector of kind rest (or of a kind built on it, see
/// wire_format.hpp), compiled from YAML, and the pure step that turns a
/// call into the upstream request (prepare_call): typing the parameters,
/// checking the body, filling the templates.

#include <rapidjson/pointer.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/http_types.hpp"
#include "core/response_cache.hpp"
#include "rest/body_json.hpp"
#include "rest/parameters.hpp"
#include "rest/text_template.hpp"
#include "rest/upstream_spec.hpp"
#include "rest/wire_format.hpp"
#include "upstream/http_client.hpp"

namespace relais::rest {

/// One entry of `endpoints:`, immutable once built.
struct EndpointSpec {
    std::string name;
    std::string description;
    std::string method = "GET";  ///< the method callers must use
    bool personal_data = true;
    /// A push: checked and stored by prepare_push, delivered by deliver.
    bool async = false;
    ParameterList parameters;
    std::unique_ptr<const BodySchema> body_schema;
    /// The call's body is parsed: there is a body_schema or a `{body:…}`.
    bool uses_body = false;
    std::vector<std::string> body_pointer_texts;  ///< "" is the whole body
    std::vector<rapidjson::Pointer> body_pointers;
    std::string upstream_method = "GET";
    PathTemplate path;
    QueryTemplate query;
    HeaderTemplate headers;
    std::unique_ptr<const BodyTemplate> body;  ///< null: the request has no body
    std::string body_content_type;             ///< sent with a body unless a header sets one
    std::unique_ptr<const AnswerReader> answer;
    std::chrono::milliseconds timeout{30'000};
    /// The upstream request may be sent twice, whatever its method (a SOAP
    /// operation declared idempotent); else only idempotent methods are.
    bool idempotent = false;
    unsigned retries = 0;
    std::optional<std::chrono::milliseconds> cache_ttl;
    std::size_t cache_size = ResponseCache::default_capacity;
    bool error_body = false;
};

/// The upstream request of one call.
struct PreparedCall {
    std::string url;
    /// The call's own headers: the templated ones and the default
    /// Content-Type. The connector adds upstream.headers, authentication and
    /// X-Request-ID when it sends the request, so that a stored push holds
    /// none of them.
    std::vector<Header> headers;
    std::string body;
    std::string cache_key;  ///< set only when the endpoint caches
    /// `name=value&…` of the typed parameters, set only for endpoints free
    /// of personal data when debug logging is on.
    std::string loggable_parameters;
};

/// Checks and templates one call. Refusals are the caller's fault (4xx):
/// method-not-allowed, not-found (a path beyond the endpoint),
/// missing/invalid-parameter, invalid-json, invalid-body.
std::optional<CallError> prepare_call(const UpstreamSpec& upstream, const EndpointSpec& endpoint,
                                      const IncomingRequest& request, PreparedCall& out);

}  // namespace relais::rest
