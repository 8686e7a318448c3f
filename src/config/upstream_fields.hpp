#pragma once
/// @file
/// Reading the settings of an upstream that connector kinds share (URLs,
/// durations, files, TLS, static headers) from a connector file already
/// valid against its kind's schema. Every check throws the ConfigError of
/// `ConnectorSource::error_at` at the JSON Pointer it is given, so that all
/// kinds refuse the same mistakes with the same words.

#include <rapidjson/fwd.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/connector.hpp"
#include "core/http_types.hpp"
#include "upstream/http_client.hpp"

namespace relais::config {

/// The member `name` of `object`; null when absent or `object` is no object.
const rapidjson::Value* find_member(const rapidjson::Value& object, const char* name);

/// The string `v`, or `fallback` when `v` is null or not a string.
std::string text_of(const rapidjson::Value* v, std::string fallback = {});

/// A scalar as text: YAML lets integrators write `limit: 10` where a query
/// or header value, which is text, is expected. Empty for non-scalars.
std::string scalar_text(const rapidjson::Value& v);

/// The duration `v` ("500ms", "10s"...), greater than zero; `fallback` when
/// `v` is null.
std::chrono::milliseconds positive_duration(const ConnectorSource& source,
                                            const rapidjson::Value* v,
                                            std::chrono::milliseconds fallback,
                                            const std::string& at);

/// Where a kind wants integrators to put what check_http_url refuses in a
/// URL; appended to the refusal after ": ", nothing when empty.
struct UrlHints {
    std::string_view query;        ///< for a query in a base URL
    std::string_view credentials;  ///< for `user:password@`
};

/// Checks an absolute http:// or https:// URL with a host, without spaces,
/// control characters, fragment nor credentials. A `base` URL, to which
/// paths are appended, must not have a query either.
void check_http_url(const ConnectorSource& source, const std::string& url, const std::string& at,
                    bool base, const UrlHints& hints = {});

/// The absolute path of the readable file named by the string `v`, which is
/// relative to the connector file's directory unless absolute.
std::string readable_file(const ConnectorSource& source, const rapidjson::Value* v,
                          const std::string& at);

/// The `tls:` object of an upstream (verify, ca_file, client_cert and
/// client_key, whose PEM files are read now).
upstream::TlsOptions load_tls(const ConnectorSource& source, const rapidjson::Value& tls,
                              const std::string& at);

/// Checks the name of a header a connector file sets: a valid token, not one
/// relais sets itself nor, when the upstream has `auth`, Authorization.
void check_header_name(const ConnectorSource& source, std::string_view name, const std::string& at,
                       bool has_auth);

/// The static `headers:` of an upstream (`headers` may be null), plus
/// `Accept: <accept>` unless they set Accept.
std::vector<Header> load_upstream_headers(const ConnectorSource& source,
                                          const rapidjson::Value* headers, const std::string& at,
                                          bool has_auth,
                                          std::string_view accept = "application/json");

}  // namespace relais::config
