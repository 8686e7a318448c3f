#include "rest/upstream_request.hpp"

#include <algorithm>
#include <optional>

#include "core/log.hpp"
#include "rest/push_message.hpp"

namespace relais::rest {

std::unique_ptr<upstream::Authenticator> make_authenticator(const UpstreamSpec& spec,
                                                            std::string_view connector) {
    if (!spec.tls.verify) {
        log::warn("upstream_tls_verification_disabled", {{"connector", connector}});
    }
    if (std::holds_alternative<upstream::NoAuth>(spec.auth)) {
        return nullptr;
    }
    return std::make_unique<upstream::Authenticator>(spec.auth, spec.tls, spec.timeout);
}

upstream::Request upstream_request(const UpstreamSpec& spec, const upstream::Authenticator* auth,
                                   const WireFormat& format, const std::string& method,
                                   std::string url, const std::vector<Header>& call_headers,
                                   std::string body, std::string_view request_id) {
    upstream::Request r;
    r.method = method;
    r.url = std::move(url);
    r.headers.reserve(spec.headers.size() + call_headers.size() + 2);
    r.headers.insert(r.headers.end(), spec.headers.begin(), spec.headers.end());
    r.headers.insert(r.headers.end(), call_headers.begin(), call_headers.end());
    if (!request_id.empty()) {
        r.headers.push_back(Header{"X-Request-ID", std::string(request_id)});
    }
    r.body = std::move(body);
    r.max_response_bytes = spec.max_response_bytes;
    r.tls = spec.tls;
    r.auth = auth;
    format.finish(r);
    return r;
}

boost::asio::awaitable<upstream::Result> deliver_push(
    const UpstreamSpec& spec, const upstream::Authenticator* auth, const WireFormat& format,
    std::string_view message, const DeliveryContext& context, std::chrono::milliseconds timeout) {
    std::optional<StoredPush> push = decode_push(message);
    if (!push) {
        upstream::Result unusable;
        unusable.failure = upstream::Failure::internal;
        unusable.detail = "unreadable stored message";
        co_return unusable;
    }
    // The stored target is joined to the base URL in force, so that the
    // current credentials only ever go to the current upstream.
    upstream::Request r =
        upstream_request(spec, auth, format, push->method, url_of(spec.base_url, push->target),
                         push->headers, std::move(push->body), context.request_id);
    if (!context.idempotency_key.empty()) {
        r.headers.push_back(Header{"Idempotency-Key", std::string(context.idempotency_key)});
    }
    r.timeout = timeout;
    r.connect_timeout = std::min(spec.connect_timeout, r.timeout);
    upstream::Result result = co_await upstream::perform(std::move(r));
    format.interpret_delivery(result);
    co_return result;
}

}  // namespace relais::rest
