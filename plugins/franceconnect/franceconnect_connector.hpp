#pragma once
/// @file
/// The connector of kind `franceconnect`: the OpenID Connect authorization
/// code flow on behalf of the GRU core, with FranceConnect as provider.
///
/// | endpoint | caller | does |
/// |---|---|---|
/// | `login?next=` | citizen's browser | 302 to the provider with a fresh state and nonce |
/// | `callback?state=&code=` | citizen's browser | checks, fetches and keeps the identity under a
/// one-time code, 302 to next with `fc_code` | | `identity?code=` | GRU core (signed) | the
/// identity, once | | `logout?next=&id_token_hint=` | citizen's browser | 302 to the provider's
/// end-session endpoint, then back to next |
///
/// States, nonces and identities live in memory only, with short lifetimes
/// (flow_stores.hpp); tokens are forgotten when the callback ends.

#include <memory>

#include "core/connector.hpp"

namespace relais::franceconnect {

/// Builds a connector from a connector file valid against
/// franceconnect.schema.json. Nothing is fetched from the provider before
/// the first login. Throws ConfigError.
std::unique_ptr<Connector> make_franceconnect_connector(const ConnectorSource& source);

}  // namespace relais::franceconnect
