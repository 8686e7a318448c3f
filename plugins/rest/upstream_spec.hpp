#pragma once
/// @file
/// The `upstream:` block of a connector file (schemas/rest.schema.json
/// #/definitions/upstream): the business application a connector calls,
/// with its timeouts, credentials, TLS and static headers. Shared by the
/// kinds that call such an upstream (rest, mail).

#include <rapidjson/fwd.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "config/upstream_fields.hpp"
#include "core/connector.hpp"
#include "core/http_types.hpp"
#include "upstream/http_client.hpp"

namespace relais::rest {

/// The `upstream:` block of a connector.
struct UpstreamSpec {
    std::string base_url;  ///< http(s), no query or fragment
    std::chrono::milliseconds timeout{30'000};
    std::chrono::milliseconds connect_timeout{5'000};
    std::size_t max_response_bytes = 16 * 1024 * 1024;
    upstream::AuthConfig auth;
    upstream::TlsOptions tls;
    std::vector<Header> headers;  ///< static, sent on every request
};

/// Reads the block `v`, found at JSON Pointer `at` of a document already
/// valid against the block's schema. `hints` say where the kind wants what
/// a base URL must not hold; `accept` is the Accept header sent unless the
/// block's headers set one. Throws ConfigError at the line of the first
/// semantic error (a secret with a control character, a Basic username
/// with ':', unreadable TLS files, a header relais sets itself...).
UpstreamSpec load_upstream_spec(const ConnectorSource& source, const rapidjson::Value& v,
                                const std::string& at, const config::UrlHints& hints,
                                std::string_view accept = "application/json");

}  // namespace relais::rest
