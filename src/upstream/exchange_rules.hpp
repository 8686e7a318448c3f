#pragma once
/// @file
/// What both outbound paths (libcurl and the plain HTTP/1.1 client) agree
/// on: which requests can be sent, when a body goes out, the response header
/// limit and the words that describe a failure. One place, so that a
/// connector sees the same details whichever path served it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "upstream/http_client.hpp"

namespace relais::upstream {

/// Response headers are capped at this many bytes, whatever the body limit.
inline constexpr std::size_t max_header_bytes = 64 * 1024;

/// Why `request` cannot be sent (unsupported method, body on HEAD, both a
/// body and a body source, invalid header name, line break in a header
/// value), or nullopt.
std::optional<std::string> check_request(const Request& request);

/// Whether the request goes out with a body (and a Content-Length), even an
/// empty one: methods meant to carry one always do.
bool sends_body(const Request& request) noexcept;

/// The Content-Length of the request's body, whole or streamed.
std::uint64_t body_size(const Request& request) noexcept;

/// The request's BodySource threw, from next() or rewind().
std::pair<Failure, std::string> body_unavailable();

/// The request's BodySource gave more or fewer bytes than its size().
std::pair<Failure, std::string> body_size_mismatch();

/// The response body went over `max_response_bytes`.
std::pair<Failure, std::string> body_too_large(std::size_t max_response_bytes);

/// The response headers went over max_header_bytes.
std::pair<Failure, std::string> headers_too_large();

/// A connection attempt failed with `os_errno`.
std::pair<Failure, std::string> could_not_connect(long os_errno);

}  // namespace relais::upstream
