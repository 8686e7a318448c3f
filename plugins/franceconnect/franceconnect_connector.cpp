#include "franceconnect/franceconnect_connector.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "core/log.hpp"
#include "franceconnect/connector_spec.hpp"
#include "franceconnect/flow_stores.hpp"
#include "franceconnect/identity.hpp"
#include "franceconnect/provider_client.hpp"
#include "franceconnect/redirects.hpp"
#include "upstream/credentials.hpp"

namespace relais::franceconnect {

namespace {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

enum EndpointIndex : std::size_t { login, callback, identity, logout };

template <typename T>
using Answer = std::variant<T, HttpResponse>;

HttpResponse method_not_allowed() {
    HttpResponse response =
        HttpResponse::failure(ErrorClass::method_not_allowed, "this endpoint accepts GET only");
    response.headers.push_back(Header{"Allow", "GET"});
    return response;
}

HttpResponse with_stats(HttpResponse response, const UpstreamStats& stats) {
    response.upstream = stats;
    return response;
}

std::shared_ptr<const KeySet> empty_key_set() {
    auto none = KeySet::parse(R"({"keys":[]})");
    return std::make_shared<const KeySet>(std::move(*none));
}

std::string param_or_empty(const QueryParams& query, std::string_view name) {
    const std::string* value = find_param(query, name);
    return value == nullptr ? std::string() : *value;
}

/// The GRU's `binding`: opaque, short, and safe in a URL as it is.
bool binding_allowed(std::string_view binding) noexcept {
    return binding.size() <= 128 && std::ranges::all_of(binding, [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '~' || c == '-';
           });
}

bool same_secret(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

/// The value of cookie `name` in the request's Cookie headers; empty when
/// absent.
std::string_view cookie_value(const std::vector<Header>& headers, std::string_view name) {
    for (const Header& header : headers) {
        if (!iequals_ascii(header.name, "cookie")) {
            continue;
        }
        std::string_view rest = header.value;
        while (!rest.empty()) {
            const std::size_t end = std::min(rest.find(';'), rest.size());
            std::string_view pair = rest.substr(0, end);
            rest.remove_prefix(std::min(end + 1, rest.size()));
            while (pair.starts_with(' ')) {
                pair.remove_prefix(1);
            }
            if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
                return pair.substr(name.size() + 1);
            }
        }
    }
    return {};
}

class FranceconnectConnector final : public Connector {
public:
    FranceconnectConnector(const ConnectorSource& source, ConnectorSpec spec)
        : slug_(source.slug),
          spec_(std::move(spec)),
          provider_(spec_.provider, slug_),
          stores_(adopt_flow_stores(slug_, spec_)),
          needs_keys_(std::ranges::any_of(spec_.algorithms,
                                          [](Algorithm a) { return a != Algorithm::hs256; })),
          no_keys_(empty_key_set()),
          cookie_name_("relais_fc_" + slug_),
          cookie_attributes_(std::string("; Path=/; HttpOnly; SameSite=Lax") +
                             (spec_.redirect_uri.starts_with("https://") ? "; Secure" : "")),
          infos_{EndpointInfo{"login", true, false, true},
                 EndpointInfo{"callback", true, false, true},
                 EndpointInfo{"identity", true, false, false},
                 EndpointInfo{"logout", true, false, true}} {}

    std::span<const EndpointInfo> endpoints() const override { return infos_; }

    net::awaitable<HttpResponse> handle(std::size_t endpoint,
                                        const IncomingRequest& request) const override {
        HttpResponse response = co_await dispatch(endpoint, request);
        // Every answer, errors included, concerns one citizen's login.
        if (find_header(response.headers, "Cache-Control") == nullptr) {
            response.headers.push_back(Header{"Cache-Control", "no-store"});
        }
        co_return response;
    }

private:
    net::awaitable<HttpResponse> dispatch(std::size_t endpoint,
                                          const IncomingRequest& request) const {
        if (!request.rest.empty()) {
            co_return HttpResponse::failure(ErrorClass::not_found, "no such route");
        }
        if (request.method != "GET") {
            co_return method_not_allowed();
        }
        switch (endpoint) {
            case login:
                co_return co_await start_login(request);
            case callback: {
                HttpResponse response = co_await finish_login(request);
                // The cookie served this login only, whatever its outcome.
                response.headers.push_back(
                    Header{"Set-Cookie", cookie_name_ + "=; Max-Age=0" + cookie_attributes_});
                co_return response;
            }
            case identity:
                co_return redeem(request);
            case logout:
                co_return co_await start_or_end_logout(request);
            default:
                co_return HttpResponse::failure(ErrorClass::not_found, "no such endpoint");
        }
    }

    /// `next` when present and under return_urls, else the refusal. The
    /// value is never quoted: it may carry the citizen's demand.
    std::variant<std::string, HttpResponse> checked_next(const IncomingRequest& request) const {
        const std::string* next = find_param(request.query, "next");
        if (next == nullptr || next->empty()) {
            return HttpResponse::failure(ErrorClass::missing_parameter,
                                         "next is required: the GRU page to send the citizen "
                                         "back to");
        }
        if (!next_allowed(*next, spec_.return_urls)) {
            return HttpResponse::failure(ErrorClass::invalid_parameter,
                                         "next is not under one of the connector's return_urls");
        }
        return *next;
    }

    net::awaitable<HttpResponse> start_login(const IncomingRequest& request) const {
        auto next = checked_next(request);
        if (auto* refusal = std::get_if<HttpResponse>(&next)) {
            co_return std::move(*refusal);
        }
        std::string binding = param_or_empty(request.query, "binding");
        if (!binding_allowed(binding)) {
            co_return HttpResponse::failure(ErrorClass::invalid_parameter,
                                            "binding must be at most 128 characters among "
                                            "A-Z a-z 0-9 . _ ~ -");
        }
        UpstreamStats stats;
        auto metadata = co_await provider_.metadata(request.request_id, stats);
        if (auto* failure = std::get_if<HttpResponse>(&metadata)) {
            co_return with_stats(std::move(*failure), stats);
        }
        const auto& provider = *std::get<std::shared_ptr<const ProviderMetadata>>(metadata);
        std::string state = random_token();
        std::string nonce = random_token();
        std::string location = authorization_url(provider, spec_, state, nonce);
        std::string browser = random_token();
        HttpResponse response = redirect_to(std::move(location));
        response.headers.push_back(Header{
            "Set-Cookie",
            cookie_name_ + "=" + browser + "; Max-Age=" +
                std::to_string(
                    std::chrono::duration_cast<std::chrono::seconds>(spec_.login_ttl).count()) +
                cookie_attributes_});
        PendingFlow flow{PendingFlow::Kind::login, std::move(nonce),
                         std::move(std::get<std::string>(next)), std::move(browser),
                         std::move(binding)};
        co_return keep_flow(std::move(state), std::move(flow), std::move(response), stats);
    }

    /// Keeps `flow` until the provider sends the citizen back with `state`,
    /// and answers `response`; 503 `overloaded` when the store is full.
    HttpResponse keep_flow(std::string state, PendingFlow flow, HttpResponse response,
                           const UpstreamStats& stats) const {
        if (!stores_->flows.put(std::move(state), std::move(flow), Clock::now())) {
            log::warn("franceconnect_login_limit", {{"connector", slug_}});
            return with_stats(HttpResponse::failure(ErrorClass::overloaded,
                                                    "too many logins in progress on this "
                                                    "connector"),
                              stats);
        }
        return with_stats(std::move(response), stats);
    }

    /// Verifies a JWS from the provider (ID token or signed userinfo) and
    /// returns its payload. An unknown key id refetches the JWKS once: the
    /// provider may have rotated its keys.
    net::awaitable<Answer<std::string>> verified_payload(const ProviderMetadata& provider,
                                                         const std::string& token,
                                                         std::string_view what,
                                                         std::string_view request_id,
                                                         UpstreamStats& stats) const {
        std::shared_ptr<const KeySet> keys = no_keys_;
        if (needs_keys_) {
            auto fetched = co_await provider_.keys(provider, false, request_id, stats);
            if (auto* failure = std::get_if<HttpResponse>(&fetched)) {
                co_return std::move(*failure);
            }
            keys = std::get<std::shared_ptr<const KeySet>>(fetched);
        }
        auto verified = verify_jws(token, *keys, spec_.client_secret, spec_.algorithms);
        if (needs_keys_ && std::get_if<TokenError>(&verified) != nullptr &&
            std::get<TokenError>(verified) == TokenError::unknown_key) {
            auto fetched = co_await provider_.keys(provider, true, request_id, stats);
            if (auto* failure = std::get_if<HttpResponse>(&fetched)) {
                co_return std::move(*failure);
            }
            keys = std::get<std::shared_ptr<const KeySet>>(fetched);
            verified = verify_jws(token, *keys, spec_.client_secret, spec_.algorithms);
        }
        if (const auto* error = std::get_if<TokenError>(&verified)) {
            co_return rejected(std::string(what) + " was refused: " + std::string(describe(*error)),
                               request_id);
        }
        co_return std::move(std::get<std::string>(verified));
    }

    HttpResponse rejected(const std::string& why, std::string_view request_id) const {
        log::warn("franceconnect_identity_rejected",
                  {{"request_id", request_id}, {"connector", slug_}, {"reason", why}});
        return HttpResponse::failure(ErrorClass::identity_rejected, why);
    }

    net::awaitable<Answer<TokenAnswer>> exchange_code(const ProviderMetadata& provider,
                                                      const std::string& code,
                                                      std::string_view request_id,
                                                      UpstreamStats& stats) const {
        upstream::Request r;
        r.method = "POST";
        r.url = provider.token_endpoint;
        r.headers.push_back(Header{"Content-Type", "application/x-www-form-urlencoded"});
        r.body = "grant_type=authorization_code&code=" + upstream::form_encode(code) +
                 "&redirect_uri=" + upstream::form_encode(spec_.redirect_uri);
        if (spec_.client_auth == ClientAuth::secret_basic) {
            // RFC 6749 2.3.1: both are form-encoded before going into Basic.
            r.headers.push_back(
                Header{"Authorization",
                       upstream::basic_authorization(upstream::form_encode(spec_.client_id),
                                                     upstream::form_encode(spec_.client_secret))});
        } else {
            r.body += "&client_id=" + upstream::form_encode(spec_.client_id) +
                      "&client_secret=" + upstream::form_encode(spec_.client_secret);
        }
        auto answer = co_await provider_.call(std::move(r), "token endpoint", request_id, stats);
        if (auto* failure = std::get_if<HttpResponse>(&answer)) {
            co_return std::move(*failure);
        }
        const upstream::Response& response = std::get<upstream::Response>(answer);
        if (response.status >= 400 && response.status <= 499) {
            co_return rejected("the identity provider refused the authorization code (" +
                                   token_refusal_code(response.body) + ")",
                               request_id);
        }
        if (response.status < 200 || response.status > 299) {
            co_return HttpResponse::failure(ErrorClass::upstream_error,
                                            "the identity provider's token endpoint answered " +
                                                std::to_string(response.status));
        }
        auto tokens = read_token_answer(response.body);
        if (!tokens) {
            co_return HttpResponse::failure(ErrorClass::upstream_invalid_response,
                                            "the token endpoint's answer lacks access_token or "
                                            "id_token");
        }
        co_return std::move(*tokens);
    }

    net::awaitable<Answer<std::string>> userinfo(const ProviderMetadata& provider,
                                                 const std::string& access_token,
                                                 std::string_view request_id,
                                                 UpstreamStats& stats) const {
        upstream::Request r;
        r.url = provider.userinfo_endpoint;
        r.headers.push_back(Header{"Authorization", "Bearer " + access_token});
        r.headers.push_back(Header{"Accept", "application/json, application/jwt"});
        auto answer = co_await provider_.call(std::move(r), "userinfo endpoint", request_id, stats);
        if (auto* failure = std::get_if<HttpResponse>(&answer)) {
            co_return std::move(*failure);
        }
        upstream::Response& response = std::get<upstream::Response>(answer);
        if (response.status == 401 || response.status == 403) {
            co_return rejected("the identity provider refused the access token at userinfo (" +
                                   std::to_string(response.status) + ")",
                               request_id);
        }
        if (response.status < 200 || response.status > 299) {
            co_return HttpResponse::failure(ErrorClass::upstream_error,
                                            "the identity provider's userinfo endpoint answered " +
                                                std::to_string(response.status));
        }
        const std::string* type = find_header(response.headers, "Content-Type");
        const bool signed_answer =
            type != nullptr &&
            iequals_ascii(std::string_view(*type).substr(0, 15), "application/jwt");
        if (!signed_answer) {
            co_return std::move(response.body);
        }
        auto payload = co_await verified_payload(provider, response.body, "the signed userinfo",
                                                 request_id, stats);
        if (const auto* claims = std::get_if<std::string>(&payload)) {
            if (const auto problem =
                    check_signed_userinfo(*claims, provider.issuer, spec_.client_id)) {
                co_return rejected(std::string(describe(*problem)), request_id);
            }
        }
        co_return payload;
    }

    net::awaitable<HttpResponse> finish_login(const IncomingRequest& request) const {
        const std::string* state = find_param(request.query, "state");
        std::optional<PendingFlow> flow;
        if (state != nullptr) {
            flow = stores_->flows.take(*state, Clock::now());
        }
        if (!flow || flow->kind != PendingFlow::Kind::login) {
            co_return HttpResponse::failure(ErrorClass::invalid_state,
                                            "the state is unknown, expired or already used: "
                                            "start again from the login");
        }
        // A callback replayed from another browser (a leaked or forwarded
        // URL) must not log that browser in: the flow is spent all the same.
        if (!same_secret(cookie_value(request.headers, cookie_name_), flow->browser)) {
            log::warn("franceconnect_callback_from_another_browser",
                      {{"request_id", request.request_id}, {"connector", slug_}});
            co_return HttpResponse::failure(ErrorClass::invalid_state,
                                            "this login was not started from this browser: "
                                            "start again from the login");
        }
        if (const std::string* error = find_param(request.query, "error")) {
            // The citizen cancelled, or the provider could not identify
            // them: the GRU shows its own page rather than a relais error.
            const std::string_view code = provider_error_code(*error);
            log::info("franceconnect_login_refused_by_provider",
                      {{"request_id", request.request_id}, {"connector", slug_}, {"error", code}});
            co_return redirect_to(with_parameter(flow->next, "fc_error", code));
        }
        const std::string code = param_or_empty(request.query, "code");
        if (code.empty()) {
            co_return HttpResponse::failure(ErrorClass::missing_parameter,
                                            "the callback carries neither code nor error");
        }
        UpstreamStats stats;
        auto handover = co_await fetch_identity(request, code, flow->nonce, stats);
        if (auto* failure = std::get_if<HttpResponse>(&handover)) {
            co_return with_stats(std::move(*failure), stats);
        }
        std::string handover_code = random_token();
        std::string location = with_parameter(flow->next, "fc_code", handover_code);
        Handover kept{std::move(std::get<std::string>(handover)), std::move(flow->binding)};
        if (!stores_->handovers.put(std::move(handover_code), std::move(kept), Clock::now())) {
            log::warn("franceconnect_handover_limit", {{"connector", slug_}});
            co_return with_stats(HttpResponse::failure(ErrorClass::overloaded,
                                                       "too many identities waiting for the GRU "
                                                       "on this connector"),
                                 stats);
        }
        co_return with_stats(redirect_to(std::move(location)), stats);
    }

    /// Code → tokens → verified ID token → userinfo → the hand-over data.
    /// The tokens die with this frame.
    net::awaitable<Answer<std::string>> fetch_identity(const IncomingRequest& request,
                                                       const std::string& code,
                                                       const std::string& nonce,
                                                       UpstreamStats& stats) const {
        const std::string_view request_id = request.request_id;
        auto metadata = co_await provider_.metadata(request_id, stats);
        if (auto* failure = std::get_if<HttpResponse>(&metadata)) {
            co_return std::move(*failure);
        }
        const auto provider = std::get<std::shared_ptr<const ProviderMetadata>>(metadata);
        auto exchanged = co_await exchange_code(*provider, code, request_id, stats);
        if (auto* failure = std::get_if<HttpResponse>(&exchanged)) {
            co_return std::move(*failure);
        }
        const TokenAnswer& tokens = std::get<TokenAnswer>(exchanged);
        auto id_payload = co_await verified_payload(*provider, tokens.id_token, "the ID token",
                                                    request_id, stats);
        if (auto* failure = std::get_if<HttpResponse>(&id_payload)) {
            co_return std::move(*failure);
        }
        const std::string& payload = std::get<std::string>(id_payload);
        const ExpectedClaims expected{provider->issuer, spec_.client_id, nonce};
        if (const auto error =
                check_id_token(payload, expected, std::chrono::system_clock::now())) {
            co_return rejected("the ID token was refused: " + std::string(describe(*error)),
                               request_id);
        }
        if (!acr_satisfies(payload, spec_.acr_values)) {
            co_return rejected("the ID token was refused: insufficient acr", request_id);
        }
        const auto subject = subject_of(payload);
        if (!subject) {
            co_return rejected("the ID token has no subject", request_id);
        }
        auto claims = co_await userinfo(*provider, tokens.access_token, request_id, stats);
        if (auto* failure = std::get_if<HttpResponse>(&claims)) {
            co_return std::move(*failure);
        }
        auto data = handover_data(std::get<std::string>(claims), *subject, tokens.id_token);
        if (const auto* problem = std::get_if<UserinfoProblem>(&data)) {
            co_return rejected(std::string(describe(*problem)), request_id);
        }
        co_return std::move(std::get<std::string>(data));
    }

    HttpResponse redeem(const IncomingRequest& request) const {
        const std::string* code = find_param(request.query, "code");
        if (code == nullptr || code->empty()) {
            return HttpResponse::failure(ErrorClass::missing_parameter,
                                         "code is required: the fc_code the callback gave");
        }
        auto kept = stores_->handovers.take(*code, Clock::now());
        // A wrong binding spends the code too: whoever holds a leaked code
        // without the GRU session gets one guess.
        if (!kept || !same_secret(param_or_empty(request.query, "binding"), kept->binding)) {
            return HttpResponse::failure(ErrorClass::unknown_code,
                                         "the code is unknown, expired or already redeemed, or "
                                         "the binding is not the login's");
        }
        return HttpResponse::data(kept->data);
    }

    net::awaitable<HttpResponse> start_or_end_logout(const IncomingRequest& request) const {
        if (find_param(request.query, "next") == nullptr) {
            co_return end_logout(request);
        }
        auto next = checked_next(request);
        if (auto* refusal = std::get_if<HttpResponse>(&next)) {
            co_return std::move(*refusal);
        }
        if (spec_.post_logout_redirect_uri.empty()) {
            co_return HttpResponse::failure(ErrorClass::not_found,
                                            "logout is not configured on this connector: write "
                                            "post_logout_redirect_uri");
        }
        UpstreamStats stats;
        auto metadata = co_await provider_.metadata(request.request_id, stats);
        if (auto* failure = std::get_if<HttpResponse>(&metadata)) {
            co_return with_stats(std::move(*failure), stats);
        }
        const auto& provider = *std::get<std::shared_ptr<const ProviderMetadata>>(metadata);
        if (provider.end_session_endpoint.empty()) {
            co_return with_stats(redirect_to(std::move(std::get<std::string>(next))), stats);
        }
        std::string state = random_token();
        std::string location =
            end_session_url(provider, spec_, param_or_empty(request.query, "id_token_hint"), state);
        PendingFlow flow{
            PendingFlow::Kind::logout, {}, std::move(std::get<std::string>(next)), {}, {}};
        co_return keep_flow(std::move(state), std::move(flow), redirect_to(std::move(location)),
                            stats);
    }

    /// The provider sends the citizen back here (post_logout_redirect_uri)
    /// with the state relais gave it.
    HttpResponse end_logout(const IncomingRequest& request) const {
        const std::string* state = find_param(request.query, "state");
        std::optional<PendingFlow> flow;
        if (state != nullptr) {
            flow = stores_->flows.take(*state, Clock::now());
        }
        if (!flow || flow->kind != PendingFlow::Kind::logout) {
            return HttpResponse::failure(ErrorClass::invalid_state,
                                         "the state is unknown, expired or already used (or "
                                         "next is missing)");
        }
        return redirect_to(std::move(flow->next));
    }

    std::string slug_;
    ConnectorSpec spec_;
    ProviderClient provider_;
    std::shared_ptr<FlowStores> stores_;
    bool needs_keys_;
    /// For HS256 only: no JWKS is fetched.
    std::shared_ptr<const KeySet> no_keys_;
    std::string cookie_name_;
    /// Path, HttpOnly, SameSite, and Secure when relais is reached over https.
    std::string cookie_attributes_;
    std::array<EndpointInfo, 4> infos_;
};

}  // namespace

std::unique_ptr<Connector> make_franceconnect_connector(const ConnectorSource& source) {
    return std::make_unique<FranceconnectConnector>(source, load_connector_spec(source));
}

}  // namespace relais::franceconnect
