#include "upstream/authenticator_impl.hpp"
#include "upstream/credentials.hpp"

namespace relais::upstream {

Authenticator::Authenticator(AuthConfig config, TlsOptions tls, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
    if (const auto* basic = std::get_if<BasicAuth>(&config)) {
        impl_->header =
            Header{"Authorization", basic_authorization(basic->username, basic->password)};
    } else if (const auto* bearer = std::get_if<BearerAuth>(&config)) {
        impl_->header = Header{"Authorization", "Bearer " + bearer->token};
    } else if (const auto* api_key = std::get_if<ApiKeyHeaderAuth>(&config)) {
        impl_->header = Header{api_key->header, api_key->value};
    } else if (const auto* oauth = std::get_if<OAuth2ClientCredentials>(&config)) {
        impl_->oauth = std::make_shared<OAuthTokenSource>(*oauth, std::move(tls), timeout);
    }
}

Authenticator::~Authenticator() = default;

}  // namespace relais::upstream
