#pragma once
/// @file
/// What both outbound paths (libcurl and the plain HTTP/1.1 client) agree
/// on: which requests can be sent, when a body goes out, the response header
/// limit and the words that describe a failure. One place, so that a
/// connector sees the same details whichever path served it.

#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "upstream/http_client.hpp"

namespace relais::upstream {

/// Response headers are capped at this many bytes, whatever the body limit.
inline constexpr std::size_t max_header_bytes = 64 * 1024;

/// Why `request` cannot be sent (unsupported method, body on HEAD, invalid
/// header name, line break in a header value), or nullopt.
std::optional<std::string> check_request(const Request& request);

/// Whether the request goes out with a body (and a Content-Length), even an
/// empty one: methods meant to carry one always do.
bool sends_body(const Request& request) noexcept;

/// The response body went over `max_response_bytes`.
std::pair<Failure, std::string> body_too_large(std::size_t max_response_bytes);

/// The response headers went over max_header_bytes.
std::pair<Failure, std::string> headers_too_large();

/// A connection attempt failed with `os_errno`.
std::pair<Failure, std::string> could_not_connect(long os_errno);

}  // namespace relais::upstream
