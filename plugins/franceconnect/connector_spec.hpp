#pragma once
/// @file
/// The typed form of a `kind: franceconnect` connector file
/// (schemas/franceconnect.schema.json), built once when the connector is
/// created: the provider (by discovery or explicit endpoints), the client
/// registration, where citizens may be sent back, and the bounds of the
/// in-memory stores.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "core/connector.hpp"
#include "franceconnect/jwt.hpp"
#include "upstream/http_client.hpp"

namespace relais::franceconnect {

/// Where the provider's endpoints are. From the discovery document, or
/// written out in the connector file.
struct ProviderMetadata {
    std::string issuer;
    std::string authorization_endpoint;
    std::string token_endpoint;
    std::string userinfo_endpoint;
    std::string jwks_uri;              ///< empty only when HS256 is the sole algorithm
    std::string end_session_endpoint;  ///< empty: the provider has no logout
};

struct ProviderSpec {
    /// The issuer whose /.well-known/openid-configuration is fetched at first
    /// use; empty when `endpoints` is written out.
    std::string discovery;
    ProviderMetadata endpoints;  ///< meaningful when `discovery` is empty
    std::chrono::milliseconds timeout{10'000};
    std::chrono::milliseconds connect_timeout{5'000};
    std::size_t max_response_bytes = 1024 * 1024;
    upstream::TlsOptions tls;
    /// How long the discovery document and the JWKS are reused.
    std::chrono::milliseconds cache_ttl{std::chrono::hours(1)};
};

/// How relais authenticates at the token endpoint (RFC 6749, 2.3.1).
enum class ClientAuth { secret_post, secret_basic };

struct ConnectorSpec {
    ProviderSpec provider;
    std::string client_id;
    std::string client_secret;
    ClientAuth client_auth = ClientAuth::secret_post;
    std::vector<Algorithm> algorithms{Algorithm::rs256, Algorithm::es256};
    std::string redirect_uri;              ///< relais's own callback URL
    std::string post_logout_redirect_uri;  ///< relais's own logout URL; empty: no logout
    std::string scope;
    std::string acr_values;
    std::string prompt;  ///< empty: not sent
    /// Prefixes `next` must start with; each has a path (at least "/").
    std::vector<std::string> return_urls;
    std::chrono::milliseconds login_ttl{std::chrono::minutes(10)};
    std::size_t max_logins = 1'000;
    std::chrono::milliseconds handover_ttl{std::chrono::seconds(60)};
    std::size_t max_handovers = 1'000;
};

/// FranceConnect's pivot identity scopes (GRU-CONTRACTS.md).
inline constexpr const char* default_scope =
    "openid given_name family_name birthdate gender birthplace birthcountry email "
    "preferred_username";

/// Builds the spec from a document already valid against the kind's
/// schema. Throws ConfigError at the line of the first semantic error.
ConnectorSpec load_connector_spec(const ConnectorSource& source);

}  // namespace relais::franceconnect
