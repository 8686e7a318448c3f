#pragma once
/// @file
/// Authentication and authorization of callers: Publik signature, API key,
/// HTTP Basic, source-address allow-lists and explicit grants.

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/username_token.hpp"
#include "config/relais_config.hpp"
#include "core/error_class.hpp"
#include "core/http_types.hpp"

namespace relais {
struct ConnectorEntry;
}

namespace relais::auth {

class NonceCache;

/// What the server knows of a caller before routing.
struct CallerInfo {
    std::string_view raw_query;  ///< query string as received, without '?'
    const std::vector<Header>& headers;
    boost::asio::ip::address remote;
    std::chrono::system_clock::time_point now;
};

class Client;

/// Outcome of authenticate(): a client, or an error class and a log-safe
/// reason (never a key, a signature or a password).
struct AuthResult {
    const Client* client = nullptr;
    std::optional<ErrorClass> error;
    std::string reason;
};

class ClientRegistry {
public:
    /// Builds the registry; checks that every grant names a loaded connector
    /// and endpoint and that its family is among the client's families.
    /// Throws ConfigErrors pointing into relais.yaml.
    ClientRegistry(const RelaisConfig& config,
                   const std::vector<std::unique_ptr<ConnectorEntry>>& connectors);
    ~ClientRegistry();

    /// Identifies the caller. Missing credentials → missing_credentials;
    /// wrong key/password/unknown orig → invalid_credentials; bad signature,
    /// timestamp more than 30 s away, nonce seen in the last 30 s →
    /// invalid_signature / expired_signature / replayed_nonce; remote
    /// address outside the client's allow-list → address_not_allowed.
    ///
    /// Credentials are taken from the first of: a `signature` parameter
    /// (Publik), an `apikey` parameter, the Authorization header (Bearer or
    /// Basic). A Publik nonce is recorded only once everything else passed;
    /// a full NonceCache gives `overloaded`. A query whose parameter names
    /// are not valid %-encoding gives `bad_request`.
    AuthResult authenticate(const CallerInfo& caller, NonceCache& nonces) const;

    /// Identifies a SOAP caller by the WS-Security UsernameToken of its
    /// envelope (`caller.raw_query` and headers are not read), against the
    /// clients' `basic:` credentials. PasswordText is compared like a Basic
    /// password. PasswordDigest needs a base64 nonce and `wsu:Created`;
    /// Created must be within username_token_window of `caller.now`
    /// (expired_signature) and the nonce unseen in that window
    /// (replayed_nonce, recorded last, as for Publik). Unknown user, wrong
    /// password or digest, unknown password type → invalid_credentials;
    /// then the address allow-list, as for every method.
    AuthResult authenticate_username_token(const UsernameToken& token, const CallerInfo& caller,
                                           NonceCache& nonces) const;

    /// Whether `client` may call `endpoint` of `connector`. `connector` must
    /// be one of those the registry was built with (grants are keyed by
    /// address, resolved once at construction).
    bool granted(const Client& client, const ConnectorEntry& connector,
                 std::string_view endpoint) const;

    /// The client's configured name, for logs.
    static const std::string& name(const Client& client) noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Query parameter names that carry credentials (orig, algo, timestamp,
/// nonce, signature, apikey); the server strips them before handing the
/// query to a connector.
bool is_credential_parameter(std::string_view name) noexcept;

}  // namespace relais::auth
