#pragma once
/// @file
/// Transport-neutral request and response types. Plugins see these, never
/// Beast's, so that the plugin ABI does not depend on the server's internals.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error_class.hpp"

namespace relais {

class ResponseStream;

/// One HTTP header; names compare case-insensitively through `find_header`.
struct Header {
    std::string name;
    std::string value;
};

/// Decoded query parameters in the order they came (a name may repeat).
using QueryParams = std::vector<std::pair<std::string, std::string>>;

/// ASCII case-insensitive equality, as header names and HTTP tokens compare.
bool iequals_ascii(std::string_view a, std::string_view b) noexcept;

/// Returns the value of the first header named `name` (ASCII case-insensitive).
const std::string* find_header(const std::vector<Header>& headers, std::string_view name) noexcept;

/// Returns the value of the first query parameter named `name`.
const std::string* find_param(const QueryParams& params, std::string_view name) noexcept;

/// The body of a call to an endpoint that takes it as it arrives
/// (EndpointInfo::streamed_body): read piece by piece from the connection,
/// so that a document of megabytes is never held whole. The route's body
/// limit and the server's read timeout apply to every piece.
class BodyReader {
public:
    virtual ~BodyReader() = default;
    /// The next piece, valid until the next call; empty once the body has
    /// ended or could not be read further (see failure()).
    virtual boost::asio::awaitable<std::string_view> next() = 0;
    /// Why the body ended before its last byte: payload_too_large,
    /// request_timeout, or bad_request (malformed framing, the client gone).
    /// nullopt while reading, and once the body was read whole.
    virtual std::optional<ErrorClass> failure() const noexcept = 0;
};

/// A request routed to a connector endpoint, already authenticated.
struct IncomingRequest {
    std::string method;  ///< "GET", "POST"...
    std::string rest;    ///< path after /{kind}/{slug}/{endpoint}/, percent-decoded
    QueryParams query;   ///< decoded; the signature parameters are removed
    std::vector<Header> headers;
    std::string body;  ///< empty when body_reader is set
    /// Set for an endpoint with EndpointInfo::streamed_body whose call has a
    /// body: read it from here. Valid during handle() only.
    BodyReader* body_reader = nullptr;
    std::string request_id;  ///< from X-Request-ID or generated; forward it upstream
    std::string
        client;  ///< the authenticated client; empty for a browser endpoint's anonymous call
};

/// What a connector spent on its upstreams for one request: the calls it
/// made (retries included) and the time spent waiting for them. Logged on
/// the `request` line; zero when no upstream was called (cache hit, refusal).
struct UpstreamStats {
    std::chrono::microseconds elapsed{0};
    unsigned attempts = 0;
};

/// A response to send back. Error responses carry `error` so that the core
/// can log and count them without parsing the body.
struct HttpResponse {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::vector<Header> headers;
    std::string body;
    std::optional<ErrorClass> error;
    UpstreamStats upstream;
    /// When set, `body` is sent first and then whatever the stream yields,
    /// until it ends (see core/response_stream.hpp). Only with status 200.
    std::shared_ptr<ResponseStream> stream;

    /// `{"err":0,"data":<data_json>}`; `data_json` must be serialized JSON.
    static HttpResponse data(std::string_view data_json);
    /// 202 `{"err":0,"data":{"tracking_id":…}}`: a message the outbox
    /// holds for delivery.
    static HttpResponse accepted(std::string_view tracking_id);
    /// `{"err":1,"err_class":…,"err_desc":…,"data":null}` with the class's status.
    /// `description` is for humans and must never contain request values.
    static HttpResponse failure(ErrorClass error, std::string_view description);
};

/// Appends `text` to `out` as a JSON string literal (quotes included).
void append_json_string(std::string& out, std::string_view text);

}  // namespace relais
