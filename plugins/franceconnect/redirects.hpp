#pragma once
/// @file
/// The URLs a citizen's browser is sent to: the provider's authorization
/// and end-session endpoints, and back to the GRU with a one-time code.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/http_types.hpp"
#include "franceconnect/connector_spec.hpp"

namespace relais::franceconnect {

/// Longest `next` accepted, in bytes.
inline constexpr std::size_t max_next_size = 2048;

/// Whether `next` is an http(s) URL under one of `prefixes` (return_urls,
/// each with a path): the same scheme, host and port (compared without
/// case, a missing port being the scheme's), and a path whose segments
/// begin with the prefix's. Refused outright: more than max_next_size
/// bytes, spaces, control, non-ASCII characters or backslashes anywhere,
/// `@` before the query, a path starting with `//`, and `.` or `..`
/// segments or encoded slashes and backslashes, raw or percent-encoded.
bool next_allowed(std::string_view next, const std::vector<std::string>& prefixes);

/// `url` with `name=value` (both percent-encoded) added to its query, before
/// any fragment.
std::string with_parameter(std::string_view url, std::string_view name, std::string_view value);

/// The authorization request (response_type=code, client_id, redirect_uri,
/// scope, state, nonce, acr_values, and prompt when configured).
std::string authorization_url(const ProviderMetadata& provider, const ConnectorSpec& spec,
                              std::string_view state, std::string_view nonce);

/// The end-session request: post_logout_redirect_uri and state, and
/// id_token_hint when given.
std::string end_session_url(const ProviderMetadata& provider, const ConnectorSpec& spec,
                            std::string_view id_token_hint, std::string_view state);

/// The `error` a provider sent back, as passed on to the GRU: an OAuth 2.0
/// error code ([A-Za-z0-9_.-], at most 64 characters) as it is, anything
/// else as "error".
std::string_view provider_error_code(std::string_view error) noexcept;

/// 302 to `location`, never cached.
HttpResponse redirect_to(std::string location);

}  // namespace relais::franceconnect
