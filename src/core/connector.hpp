#pragma once
/// @file
/// What a connector is to the core: a set of named endpoints that turn an
/// authenticated request into a response. A connector is built once from
/// validated YAML by its kind's factory (see plugin/plugin_api.hpp) and is
/// shared by every I/O thread, so `handle` must be safe to call concurrently.

#include <rapidjson/fwd.h>

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "core/config_error.hpp"
#include "core/http_types.hpp"

namespace relais {

namespace upstream {
struct Result;
}

/// An endpoint as the core needs to know it: for routing, grants and logs.
struct EndpointInfo {
    std::string name;
    /// False only when the connector declares the endpoint free of personal
    /// data (`personal_data: false`): then values may be logged and cached.
    bool personal_data = true;
    /// `async: true`: a push. The core calls `prepare_push`, stores the
    /// message encrypted in the outbox, answers 202 with a tracking id and
    /// calls `deliver` in the background until the business application
    /// takes it. `handle` is never called for such an endpoint.
    bool async = false;
    /// Reached by citizens' browsers, which carry no client credentials
    /// (FranceConnect's redirect back to relais): the core serves a call
    /// without credentials instead of answering 401, with no grants to
    /// check; the connector authenticates it itself (e.g. with a state it
    /// issued). A call with credentials is authenticated and granted as
    /// usual.
    bool browser = false;
    /// Largest body a call may carry, in bytes; 0: the server's
    /// `limits.body_bytes`. Beyond: 413 `payload-too-large`, answered from
    /// the request head when it declares its length. Reading stays bounded
    /// by the route's limit, looked up before the body is read.
    std::size_t max_body_bytes = 0;
    /// The body is handed to `handle` as it arrives (IncomingRequest::
    /// body_reader) rather than read whole first: for calls carrying a
    /// document of megabytes. Ignored for an async endpoint.
    bool streamed_body = false;
    /// For an async endpoint: each push ends a demand the connector opened
    /// with `ConnectorServices::submit_demand` and a `reference` (a GEC
    /// mail's id). The call's JSON body names it in `reference` (a string
    /// of 1 to 256 bytes, as in a status report); the core
    /// answers 404 `unknown-reference` when no correlation holds it for
    /// this connector, and otherwise queues the push and drops the
    /// correlation in one transaction. A second call for the same reference
    /// answers 202 with the first push's tracking id.
    bool closes_demand = false;

    /// Whether the core hands this endpoint its body as it arrives.
    bool streams_body() const noexcept { return streamed_body && !async; }
};

/// What one delivery attempt knows besides the message.
struct DeliveryContext {
    std::string_view tracking_id;
    /// Sent as the `Idempotency-Key` header of the upstream request: the same
    /// value on every attempt of one message, so that the business
    /// application can recognise a message it already took.
    std::string_view idempotency_key;
    std::string_view request_id;  ///< of the push: forward it as X-Request-ID
    unsigned attempt = 1;         ///< 1 for the first attempt
};

/// A push accepted by `prepare_push`: bytes only the connector reads back
/// (in `deliver`), possibly in another process after a restart or a reload.
/// They are encrypted before they touch the disk.
using PushMessage = std::string;

/// A configured connector. Immutable once built; any cache it keeps is
/// internal and synchronized.
class Connector {
public:
    virtual ~Connector() = default;

    /// The endpoints, in a fixed order: the core routes by index into it.
    virtual std::span<const EndpointInfo> endpoints() const = 0;

    /// Serves one call of `endpoints()[endpoint]`. Runs on an I/O thread: it
    /// must never block (use relais::upstream for outbound HTTP). Failures
    /// are returned as `HttpResponse::failure`, never thrown.
    virtual boost::asio::awaitable<HttpResponse> handle(std::size_t endpoint,
                                                        const IncomingRequest& request) const = 0;

    /// For an endpoint whose `async` is true: checks the call exactly as
    /// `handle` would (parameters, body) and turns it into the message to
    /// deliver later. Runs on an I/O thread; never blocks nor calls an
    /// upstream. A refusal is an `HttpResponse::failure` (4xx).
    /// The default refuses every call with 500 `internal-error`.
    virtual std::variant<PushMessage, HttpResponse> prepare_push(
        std::size_t endpoint, const IncomingRequest& request) const;

    /// Makes one delivery attempt of a message `prepare_push` returned for
    /// `endpoint`: exactly one upstream request (the outbox owns retries),
    /// with the `Idempotency-Key` header of `context`. Returns what the
    /// upstream answered or why it could not; the core decides what the
    /// answer means (retry, done, dead letter). Runs on the delivery
    /// thread's event loop. The default fails with `Failure::internal`.
    virtual boost::asio::awaitable<upstream::Result> deliver(std::size_t endpoint,
                                                             std::string_view message,
                                                             const DeliveryContext& context) const;

    /// Called once the configuration the connector belongs to serves: at
    /// start-up, and after a reload once the new configuration is
    /// installed (never for a reload that is refused). Where a connector
    /// takes over state shared with the connector it replaces (settings of
    /// a call book kept across reloads). Runs on the thread that installed
    /// the configuration; must not block. The default does nothing.
    virtual void activate() const {}
};

/// A document stored in the outbox (see DocumentWriter).
struct StoredDocument {
    std::string id;           ///< random; names the document's pieces
    std::uint64_t bytes = 0;  ///< its text's size
};

/// A document a connector stores in the outbox while it reads it (the
/// base64 text of a scanned mail, megabytes long), before it submits the
/// demand that carries it: sealed and written piece by piece, never held
/// whole in memory. A document no demand takes is dropped by discard(),
/// or else by the outbox's sweep within the hour.
class DocumentWriter {
public:
    virtual ~DocumentWriter() = default;
    /// Appends `text`. False when the outbox failed (logged without
    /// values): the document cannot be completed.
    virtual boost::asio::awaitable<bool> write(std::string_view text) = 0;
    /// Stores what is left; the document is complete and may go into a
    /// GruDemand. nullopt as write() fails.
    virtual boost::asio::awaitable<std::optional<StoredDocument>> finish() = 0;
    /// Drops every piece stored so far.
    virtual boost::asio::awaitable<void> discard() = 0;
};

/// A demand to open in the GRU core on behalf of a connector (w.c.s.: a new
/// form of `formdef`, as if submitted through `channel`).
struct GruDemand {
    std::string formdef;     ///< form slug: [a-z0-9][a-z0-9_-]*, at most 64 characters
    std::string data_json;   ///< JSON object: field varname -> value
    std::string channel;     ///< "phone", "mail", "counter"...; empty: none given
    std::string request_id;  ///< of the request that caused it, forwarded as X-Request-ID
    /// Non-empty: the business reference the demand is opened for (a GEC
    /// mail's id; 1 to 256 bytes, without control characters). A
    /// second submit with the same reference for the same connector queues
    /// nothing and returns the first tracking id. Once the GRU core has
    /// opened the demand, the correlation reference -> demand URL (w.c.s.:
    /// `data.url` of its answer) is recorded for the connector, until an
    /// endpoint with `closes_demand` ends it or `correlation_retention`
    /// passes.
    std::string reference;
    /// Set: a document stored beforehand (ConnectorServices::open_document),
    /// whose text is spliced into data_json at byte `document_at` each time
    /// the demand is sent. It never sits whole in memory: it is read back
    /// from the outbox piece by piece as the request is written.
    std::optional<StoredDocument> document{};
    std::size_t document_at = 0;
};

/// What the core offers connectors beyond serving their own calls. One
/// object outlives every connector built with it; its methods are safe to
/// call from any I/O thread.
class ConnectorServices {
public:
    virtual ~ConnectorServices() = default;

    /// Queues `demand` in the outbox of `family` for delivery to the GRU core
    /// (w.c.s.: POST {gru.url}api/formdefs/{formdef}/submit, body
    /// {"data":…,"context":{"channel":…}}, Publik-signed at each attempt with
    /// gru.orig/gru.key, retried like a trigger with the connector's
    /// `delivery:` policy). Returns the tracking id once the demand is
    /// durable (for a `reference` already submitted: the first demand's
    /// tracking id), or nullopt when it could not be queued (no `gru:`
    /// configured, an invalid formdef, data or reference, outbox
    /// unavailable; logged without values). Runs on an I/O thread.
    virtual boost::asio::awaitable<std::optional<std::string>> submit_demand(
        std::string_view connector, std::string_view family, GruDemand demand) const = 0;

    /// A new document for a demand of `family`, or null when none can be
    /// stored (no outbox). Runs on an I/O thread.
    virtual std::unique_ptr<DocumentWriter> open_document(std::string_view family) const = 0;
};

/// What a factory receives to build a connector: the connector's YAML as a
/// JSON document already validated against the kind's schema, with secrets
/// (`${env:…}`, `${file:…}`) already substituted.
struct ConnectorSource {
    const rapidjson::Value& document;  ///< the whole connector file
    const SourceMap& locations;        ///< JSON Pointer -> YAML position
    std::string slug;
    std::string kind;
    std::string family;
    std::filesystem::path data_dir;  ///< relais's data directory
    /// The core's services; null when relais only validates the
    /// configuration (and in unit tests): a connector must then load all the
    /// same, and at run time answer or skip what needs them cleanly.
    const ConnectorServices* services = nullptr;

    /// A ConfigError pointing at `pointer` in the connector file. Messages
    /// must not quote values: they may be secrets.
    ConfigError error_at(std::string_view pointer, const std::string& message) const {
        return ConfigError(locations, pointer, message);
    }
};

}  // namespace relais
