#pragma once
/// @file
/// What an Authenticator holds, for `perform` to apply it.

#include <memory>
#include <optional>

#include "upstream/http_client.hpp"
#include "upstream/oauth_token_source.hpp"

namespace relais::upstream {

struct Authenticator::Impl {
    /// Basic, Bearer and API key modes: one header, computed once.
    std::optional<Header> header;
    /// OAuth2 mode. Shared so that a token request in flight outlives a
    /// connector dropped by a configuration reload.
    std::shared_ptr<OAuthTokenSource> oauth;
};

struct AuthenticatorAccess {
    static const Authenticator::Impl& impl(const Authenticator& authenticator) {
        return *authenticator.impl_;
    }
};

}  // namespace relais::upstream
