#pragma once
/// @file
/// What a franceconnect connector remembers between two requests, in memory
/// only: the logins and logouts under way (by state) and the identities
/// waiting for the GRU to redeem them (by one-time code). A reload keeps
/// them when the connector of the same slug keeps the same bounds, so that
/// a SIGHUP does not break the logins in progress.

#include <memory>
#include <string>

#include "franceconnect/connector_spec.hpp"
#include "franceconnect/one_time_store.hpp"

namespace relais::franceconnect {

/// A login or logout sent to the provider, waiting for its return.
struct PendingFlow {
    enum class Kind { login, logout };
    Kind kind = Kind::login;
    std::string nonce;  ///< login only
    std::string next;   ///< where the citizen goes back, already checked
};

struct FlowStores {
    explicit FlowStores(const ConnectorSpec& spec);

    OneTimeStore<PendingFlow> flows;
    /// The `data` object the identity endpoint answers, once.
    OneTimeStore<std::string> handovers;
};

/// The stores of connector `slug`: those of its previous connector when
/// their bounds and lifetimes are those of `spec`, new ones otherwise.
std::shared_ptr<FlowStores> adopt_flow_stores(const std::string& slug, const ConnectorSpec& spec);

/// 128 random bits from OpenSSL's generator, base64url without padding (22
/// characters). Throws std::runtime_error if the generator fails.
std::string random_token();

}  // namespace relais::franceconnect
