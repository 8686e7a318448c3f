#pragma once
/// @file
/// The bytes a REST async endpoint stores in the outbox for one push: the
/// upstream request as the call's templates made it, minus everything that
/// comes from the connector's configuration at delivery time (base URL,
/// static headers, authentication). No secret of the connector is ever in
/// it, and a push accepted before a configuration change is delivered with
/// the credentials and the address of the configuration in force.
///
/// Format, version 1: the byte 0x01, then the method, the target, the
/// number of headers, each header's name and value, and the body; strings
/// are a 4-byte big-endian length followed by their bytes, the count is a
/// 4-byte big-endian integer. Nothing may follow the body.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/connector.hpp"
#include "core/http_types.hpp"

namespace relais::rest {

/// One push, as stored.
struct StoredPush {
    std::string method;  ///< upstream method
    /// What follows the base URL: path (without a leading '/') and query,
    /// e.g. "permits/42?x=1"; "?x=1" or "" when the endpoint has no path.
    std::string target;
    std::vector<Header> headers;  ///< templated headers only
    std::string body;
};

/// Serializes `push` (format version 1).
PushMessage encode_push(const StoredPush& push);

/// Reads back what encode_push wrote; nullopt if `message` is not a
/// well-formed version 1 message.
std::optional<StoredPush> decode_push(std::string_view message);

/// The target of `url`, a URL built on `base_url` by prepare_call.
std::string target_of(std::string_view base_url, std::string_view url);

/// `target` appended to `base_url`, as prepare_call joins a path.
std::string url_of(std::string_view base_url, std::string_view target);

}  // namespace relais::rest
