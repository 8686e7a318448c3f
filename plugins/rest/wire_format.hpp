#pragma once
/// @file
/// What a connector kind built on rest's endpoints brings of its own: how
/// an upstream body is written from YAML, how an upstream answer is read,
/// and what each attempt adds to the request. Kind rest speaks JSON
/// (json_format()); kinds xml and soap bring theirs. Everything else —
/// parameters, the templates of path, query and headers, retries, the
/// cache, async pushes and their delivery — is rest's and the same for all.

#include <rapidjson/fwd.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/connector.hpp"
#include "rest/parameters.hpp"
#include "rest/text_template.hpp"
#include "upstream/http_client.hpp"

namespace relais::rest {

struct EndpointSpec;

/// An endpoint's upstream body, compiled once from its `request.body`.
class BodyTemplate {
public:
    virtual ~BodyTemplate() = default;
    /// Appends the body of one call to `out`. Fails (4xx, the caller's
    /// fault) when a value of the call cannot go where the template puts it.
    virtual std::optional<CallError> render(const CallValues& values, std::string& out) const = 0;
};

/// Reads an upstream's answer into the `data` of relais's envelope.
class AnswerReader {
public:
    virtual ~AnswerReader() = default;
    /// `response` came back (no transport failure). Writes the data, as
    /// JSON, into `data`, or says why the answer is refused:
    /// upstream-error for a status that is not 2xx (see status_refusal),
    /// upstream-invalid-response for a body of the wrong shape. May rewrite
    /// `response.body` (parsing in place).
    virtual std::optional<CallError> read(upstream::Response& response, bool error_body,
                                          std::string& data) const = 0;
};

/// The format of one kind's upstream exchanges. Immutable; shared by the
/// kind's connector and every endpoint built with it.
class WireFormat {
public:
    virtual ~WireFormat() = default;

    /// Upstream method of an endpoint whose `request` names none.
    virtual std::string_view default_method() const { return "GET"; }
    /// How else than by its method a request is declared idempotent, for
    /// the message refusing retries (", or …"); empty: no other way.
    virtual std::string_view idempotence_hint() const { return {}; }
    /// Accept header of every request, unless upstream.headers set one.
    virtual std::string_view accept() const { return "application/json"; }
    /// Content-Type sent with a body, unless a header sets one.
    virtual std::string_view content_type() const = 0;
    /// Compiles `request.body`. Throws TemplateError, whose message quotes
    /// no value.
    virtual std::unique_ptr<const BodyTemplate> load_body(const rapidjson::Value& body,
                                                          const RefResolver& resolve) const = 0;
    /// Reads the members of an endpoint's `request` (at `at`) that only
    /// this format knows; rest's loader has read the others into
    /// `endpoint`. Throws ConfigError (source.error_at).
    virtual void load_request_extras(const ConnectorSource& source, const rapidjson::Value& request,
                                     const std::string& at, EndpointSpec& endpoint) const;
    /// Compiles an endpoint's `response` (at `at`; null when absent).
    /// Throws ConfigError (source.error_at).
    virtual std::unique_ptr<const AnswerReader> load_answer(const ConnectorSource& source,
                                                            const rapidjson::Value* response,
                                                            const std::string& at) const = 0;
    /// Last touch on the request of each attempt, of a call or of a
    /// delivery, once everything else is set (SOAP: a fresh WS-Security
    /// header). Never stored: what it adds may be a secret.
    virtual void finish(upstream::Request& request) const;
    /// Adjusts the result of a delivery attempt so that the outbox's rules
    /// (2xx delivered; 408, 429 and 5xx retried; other statuses dead) follow
    /// what the answer means in this format (SOAP: a fault of the caller's
    /// making is final whatever its HTTP status).
    virtual void interpret_delivery(upstream::Result& result) const;
};

/// Kind rest's format: JSON bodies (json_template.hpp) and JSON answers
/// mapped with JSON Pointers (response_mapping.hpp).
std::shared_ptr<const WireFormat> json_format();

/// upstream-error for an answer whose status is not 2xx, naming the status
/// and, with `error_body`, the first 512 bytes of the body (UTF-8 only);
/// nullopt for a 2xx.
std::optional<CallError> status_refusal(const upstream::Response& response, bool error_body);

}  // namespace relais::rest
