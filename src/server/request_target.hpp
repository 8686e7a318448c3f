#pragma once
/// @file
/// Reading a request target: path segments for routing, the query for
/// authentication (raw) and for connectors (decoded), and request ids.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/http_types.hpp"

namespace relais::server {

/// An origin-form request target ("/a/b?x=1"), split.
struct Target {
    /// Path segments, percent-decoded. The empty segment a trailing slash
    /// leaves is dropped, so "/a/b/" and "/a/b" both give {"a", "b"}.
    std::vector<std::string> segments;
    /// The query as received, without '?': signatures are computed on it.
    std::string_view raw_query;
};

/// Splits `target`; nullopt if it is not a valid origin-form target
/// (absolute form, `*`, bad percent-encoding, forbidden characters).
/// `raw_query` points into `target`.
std::optional<Target> parse_target(std::string_view target);

/// Decodes a query already validated by parse_target ('+' is a space),
/// keeping the order and repeated names.
QueryParams decode_query(std::string_view raw_query);

/// `/{kind}/{slug}/{endpoint}[/{rest...}]`, as path segments.
struct RoutePath {
    std::string kind;
    std::string slug;
    std::string endpoint;
    std::string rest;  ///< remaining segments joined with '/', each decoded
};

/// Routes path segments; nullopt unless there are at least three and none
/// of the first three is empty.
std::optional<RoutePath> route_of(std::vector<std::string> segments);

/// Whether a client-supplied id may be kept: `^[A-Za-z0-9._:-]{1,128}$`.
bool valid_request_id(std::string_view id) noexcept;

/// 32 hexadecimal characters from OpenSSL's CSPRNG.
std::string new_request_id();

/// The X-Request-ID header's value if valid (`header` may be null), else a new id.
std::string request_id_from(const std::string* header);

}  // namespace relais::server
