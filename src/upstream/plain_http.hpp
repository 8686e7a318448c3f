#pragma once
/// @file
/// The plain HTTP/1.1 client behind `perform()` for `http://` upstreams
/// reached directly (no proxy, no credentials in the URL): Beast's parser on
/// the calling coroutine's io_context, with a keep-alive pool per
/// io_context. Everything else (https, proxies) goes through libcurl. It
/// spares libcurl's per-transfer work, which was the largest cost of a
/// passthrough request after the kernel's (docs/performance.md).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "upstream/http_client.hpp"

namespace relais::upstream {

/// Where a request served by the plain client goes.
struct PlainTarget {
    std::string host;         ///< name or IP address, without brackets
    std::uint16_t port = 80;  ///< 80 unless the URL names one
    bool literal = false;     ///< `host` is an IP address: nothing to resolve
    std::string host_header;  ///< host[:port] as the URL spells it
    std::string target;       ///< path and query, "/" when the URL has no path
};

/// The target of `request` if the plain client serves it: an absolute
/// `http://` URL with a host, without user information, and no proxy.
/// nullopt: libcurl serves it (and reports a malformed URL as before).
std::optional<PlainTarget> plain_target_of(const Request& request);

/// Performs `request` (already accepted by check_request(), authentication
/// headers included) on a pooled or new connection of `context`. Same
/// contract as `perform()`: failures in the Result, cancellation ends the
/// coroutine with `operation_aborted`. A request that fails on a reused
/// connection before any byte of answer is sent again once on a new
/// connection, as libcurl does: the upstream may have closed it meanwhile.
boost::asio::awaitable<Result> perform_plain(boost::asio::io_context& context,
                                             const Request& request, const PlainTarget& target);

}  // namespace relais::upstream
