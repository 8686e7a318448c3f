#pragma once
/// @file
/// The typed form of a `kind: base-adresse` connector file
/// (schemas/base-adresse.schema.json), built once when the connector is
/// created: upstream URLs, timeouts, TLS, rate limits, cache lifetimes.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "base-adresse/parameters.hpp"
#include "core/connector.hpp"
#include "upstream/http_client.hpp"

namespace relais::base_adresse {

/// How fast relais may call one upstream (see upstream/rate_limiter.hpp).
struct RateLimitSpec {
    double per_second = 50;  ///< the Géoplateforme's limit per client
    unsigned burst = 10;
    std::chrono::milliseconds max_wait{250};
};

struct UpstreamSpec {
    std::string base_url;  ///< ends with '/'
    std::chrono::milliseconds timeout{10'000};
    std::chrono::milliseconds connect_timeout{5'000};
    std::size_t max_response_bytes = 8 * 1024 * 1024;
    upstream::TlsOptions tls;
    std::vector<Header> headers;  ///< Accept: application/json unless set
    RateLimitSpec rate_limit;
};

/// The cache of reference data (cities, departments, regions, streets).
struct CacheSpec {
    std::chrono::milliseconds ttl{std::chrono::hours(24)};
    std::chrono::milliseconds max_stale{std::chrono::hours(24 * 7)};
    std::size_t max_entries = 1000;  ///< per endpoint
};

struct ConnectorSpec {
    UpstreamSpec geocoder;
    UpstreamSpec api_geo;
    CacheSpec cache;
    std::string id_key;               ///< empty: the key file of the data directory
    std::vector<Endpoint> endpoints;  ///< those of the YAML, in its order
};

inline constexpr const char* default_geocoder_url = "https://data.geopf.fr/geocodage/";
inline constexpr const char* default_api_geo_url = "https://geo.api.gouv.fr/";

/// Builds the spec from a document already valid against the kind's
/// schema. Throws ConfigError at the line of the first semantic error.
ConnectorSpec load_connector_spec(const ConnectorSource& source);

}  // namespace relais::base_adresse
