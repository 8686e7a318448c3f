#pragma once
/// @file
/// What a franceconnect connector remembers between two requests, in memory
/// only: the logins and logouts under way (by state) and the identities
/// waiting for the GRU to redeem them (by one-time code). A reload keeps
/// them when the connector of the same slug keeps the same bounds, client,
/// provider and return_urls, so that a SIGHUP does not break the logins in
/// progress but a flow never ends under rules other than those it began with.

#include <memory>
#include <string>
#include <vector>

#include "franceconnect/connector_spec.hpp"
#include "franceconnect/one_time_store.hpp"

namespace relais::franceconnect {

/// A login or logout sent to the provider, waiting for its return.
struct PendingFlow {
    enum class Kind { login, logout };
    Kind kind = Kind::login;
    std::string nonce;  ///< login only
    std::string next;   ///< where the citizen goes back, already checked
    /// login only: the value of the cookie set on the browser that started
    /// the login; the callback must come from that browser.
    std::string browser;
    /// login only: the GRU's `binding` (empty when none), required again
    /// when the identity is redeemed.
    std::string binding;
};

/// An identity waiting for the GRU.
struct Handover {
    std::string data;     ///< the `data` object the identity endpoint answers
    std::string binding;  ///< the login's `binding`; the redeeming call must repeat it
};

struct FlowStores {
    explicit FlowStores(const ConnectorSpec& spec);

    OneTimeStore<PendingFlow> flows;
    OneTimeStore<Handover> handovers;
    /// What the flows were started under: kept stores must match it.
    std::string client_id;
    std::string provider;  ///< the discovery issuer, or the explicit issuer
    std::vector<std::string> return_urls;
};

/// The stores of connector `slug`: those of its previous connector when
/// their bounds and lifetimes are those of `spec`, new ones otherwise.
std::shared_ptr<FlowStores> adopt_flow_stores(const std::string& slug, const ConnectorSpec& spec);

/// 128 random bits from OpenSSL's generator, base64url without padding (22
/// characters). Throws std::runtime_error if the generator fails.
std::string random_token();

}  // namespace relais::franceconnect
