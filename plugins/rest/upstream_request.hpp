#pragma once
/// @file
/// Sending a templated request to a connector's upstream: what every
/// request carries besides the call's own part (static headers,
/// authentication, X-Request-ID, TLS, the answer's size limit), and one
/// delivery attempt of a stored push. Shared by the kinds whose requests
/// are built by rest's templates (rest, mail).

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/connector.hpp"
#include "core/http_types.hpp"
#include "rest/upstream_spec.hpp"
#include "rest/wire_format.hpp"
#include "upstream/http_client.hpp"

namespace relais::rest {

/// The authenticator of `spec`'s credentials, null without any; warns
/// (once, at load) when TLS verification is off for `connector`.
std::unique_ptr<upstream::Authenticator> make_authenticator(const UpstreamSpec& spec,
                                                            std::string_view connector);

/// The request of a call or a delivery, less its timeouts: the upstream's
/// static headers, then `call_headers`, then X-Request-ID (when
/// `request_id` is not empty), with `auth` (may be null), the upstream's
/// TLS options and answer limit, finished by `format`.
upstream::Request upstream_request(const UpstreamSpec& spec, const upstream::Authenticator* auth,
                                   const WireFormat& format, const std::string& method,
                                   std::string url, const std::vector<Header>& call_headers,
                                   std::string body, std::string_view request_id);

/// One delivery attempt of `message`, a push stored by encode_push: its
/// target joined to the base URL in force, with the Idempotency-Key and the
/// request id of `context`, `timeout` for the whole attempt. A message that
/// cannot be read is Failure::internal ("unreadable stored message") and
/// sends nothing; otherwise the upstream's answer is returned as `format`
/// interprets it.
boost::asio::awaitable<upstream::Result> deliver_push(
    const UpstreamSpec& spec, const upstream::Authenticator* auth, const WireFormat& format,
    std::string_view message, const DeliveryContext& context, std::chrono::milliseconds timeout);

}  // namespace relais::rest
