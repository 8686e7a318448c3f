#pragma once
/// @file
/// What a base-adresse connector keeps across reloads. A reload (SIGHUP)
/// builds new connectors while the old ones still serve; a new connector
/// adopts the reference caches and rate limiters of the old one when their
/// settings are the same, so that a reload during an upstream outage keeps
/// serving the cached reference data, and a reload during a 429's hold-off
/// does not call the upstream again at once. The module is never unloaded,
/// so this registry lives as long as the process; it keeps nothing alive:
/// once no connector holds a cache or a limiter, it is gone.

#include <memory>
#include <string_view>

#include "base-adresse/connector_spec.hpp"
#include "base-adresse/parameters.hpp"
#include "core/response_cache.hpp"
#include "upstream/rate_limiter.hpp"

namespace relais::base_adresse {

/// The live cache of `endpoint` of connector `slug` with the same upstream
/// URL and cache settings, and for `streets`, whose answers hold ids, the
/// same id key (`id_fingerprint`); or a new one. Safe from any thread.
std::shared_ptr<ResponseCache> adopt_cache(std::string_view slug, Endpoint endpoint,
                                           const UpstreamSpec& upstream, const CacheSpec& cache,
                                           std::string_view id_fingerprint);

/// The live rate limiter of the upstream `name` of connector `slug` with the
/// same URL and rate settings, or a new one. Safe from any thread.
std::shared_ptr<upstream::RateLimiter> adopt_rate_limiter(std::string_view slug,
                                                          std::string_view name,
                                                          const UpstreamSpec& upstream);

}  // namespace relais::base_adresse
