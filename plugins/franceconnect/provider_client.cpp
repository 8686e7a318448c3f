#include "franceconnect/provider_client.hpp"

#include <rapidjson/document.h>

#include <algorithm>

#include "core/json.hpp"
#include "core/log.hpp"

namespace relais::franceconnect {

namespace {

std::string_view without_final_slash(std::string_view url) {
    return url.ends_with('/') ? url.substr(0, url.size() - 1) : url;
}

bool is_http_url(std::string_view url) {
    return url.starts_with("https://") || url.starts_with("http://");
}

HttpResponse upstream_failure(const upstream::Result& result, std::string_view what,
                              const ProviderSpec& spec) {
    const std::string name(what);
    switch (result.failure) {
        case upstream::Failure::timeout:
            return HttpResponse::failure(ErrorClass::upstream_timeout,
                                         "the identity provider's " + name +
                                             " did not answer within " +
                                             std::to_string(spec.timeout.count()) + " ms");
        case upstream::Failure::too_large:
            return HttpResponse::failure(ErrorClass::upstream_invalid_response,
                                         "the identity provider's " + name +
                                             " answered more than " +
                                             std::to_string(spec.max_response_bytes) + " bytes");
        case upstream::Failure::internal:
            return HttpResponse::failure(
                upstream::error_class_of(result.failure),
                "the request to the identity provider's " + name + " could not be made");
        default:
            return HttpResponse::failure(upstream::error_class_of(result.failure),
                                         "the identity provider's " + name + " is unreachable");
    }
}

}  // namespace

std::variant<ProviderMetadata, std::string> read_discovery(std::string_view json,
                                                           std::string_view expected_issuer) {
    rapidjson::Document doc;
    if (!parse_untrusted_object(json, doc)) {
        return std::string("the discovery document is not a JSON object");
    }
    ProviderMetadata m;
    const std::pair<const char*, std::string*> fields[] = {
        {"issuer", &m.issuer},
        {"authorization_endpoint", &m.authorization_endpoint},
        {"token_endpoint", &m.token_endpoint},
        {"userinfo_endpoint", &m.userinfo_endpoint},
        {"jwks_uri", &m.jwks_uri},
        {"end_session_endpoint", &m.end_session_endpoint}};
    for (const auto& [name, out] : fields) {
        const auto found = doc.FindMember(name);
        if (found == doc.MemberEnd()) {
            if (out == &m.end_session_endpoint) {
                continue;
            }
            return std::string("the discovery document has no ") + name;
        }
        if (!found->value.IsString() ||
            !is_http_url({found->value.GetString(), found->value.GetStringLength()})) {
            return std::string("the discovery document's ") + name + " is not an http(s) URL";
        }
        out->assign(found->value.GetString(), found->value.GetStringLength());
    }
    if (without_final_slash(m.issuer) != without_final_slash(expected_issuer)) {
        return std::string("the discovery document names another issuer than the configured one");
    }
    return m;
}

ProviderClient::ProviderClient(ProviderSpec spec, std::string connector)
    : spec_(std::move(spec)), connector_(std::move(connector)) {
    if (spec_.discovery.empty()) {
        metadata_ = std::make_shared<const ProviderMetadata>(spec_.endpoints);
        metadata_until_ = Clock::time_point::max();
    }
    if (!spec_.tls.verify) {
        log::warn("upstream_tls_verification_disabled",
                  {{"connector", connector_}, {"upstream", "provider"}});
    }
}

boost::asio::awaitable<ProviderClient::Answer<upstream::Response>> ProviderClient::call(
    upstream::Request request, std::string_view what, std::string_view request_id,
    UpstreamStats& stats) const {
    request.timeout = spec_.timeout;
    request.connect_timeout = std::min(spec_.connect_timeout, spec_.timeout);
    request.max_response_bytes = spec_.max_response_bytes;
    request.tls = spec_.tls;
    if (find_header(request.headers, "Accept") == nullptr) {
        request.headers.push_back(Header{"Accept", "application/json"});
    }
    if (!request_id.empty()) {
        request.headers.push_back(Header{"X-Request-ID", std::string(request_id)});
    }
    upstream::Result result = co_await upstream::perform(std::move(request));
    stats.elapsed += result.elapsed;
    ++stats.attempts;
    // Only the call's name and status: URLs and bodies carry codes and tokens.
    log::debug("franceconnect_provider_call",
               {{"request_id", request_id},
                {"connector", connector_},
                {"call", what},
                {"status", result.response.status},
                {"elapsed_ms", static_cast<double>(result.elapsed.count()) / 1000.0}});
    if (result.failure != upstream::Failure::none) {
        // The cause goes to the log only: citizens' browsers see these
        // answers, and the cause describes relais's network.
        log::warn("franceconnect_provider_failure", {{"request_id", request_id},
                                                     {"connector", connector_},
                                                     {"call", what},
                                                     {"reason", result.detail}});
        co_return upstream_failure(result, what, spec_);
    }
    co_return std::move(result.response);
}

boost::asio::awaitable<ProviderClient::Answer<std::string>> ProviderClient::fetch_json(
    const std::string& url, std::string_view what, std::string_view request_id,
    UpstreamStats& stats) const {
    upstream::Request request;
    request.url = url;
    auto answer = co_await call(std::move(request), what, request_id, stats);
    if (auto* failure = std::get_if<HttpResponse>(&answer)) {
        co_return std::move(*failure);
    }
    upstream::Response& response = std::get<upstream::Response>(answer);
    if (response.status < 200 || response.status > 299) {
        co_return HttpResponse::failure(ErrorClass::upstream_error,
                                        "the identity provider's " + std::string(what) +
                                            " answered " + std::to_string(response.status));
    }
    co_return std::move(response.body);
}

boost::asio::awaitable<ProviderClient::Answer<std::shared_ptr<const ProviderMetadata>>>
ProviderClient::metadata(std::string_view request_id, UpstreamStats& stats) const {
    {
        const std::lock_guard lock(mutex_);
        if (metadata_ != nullptr && Clock::now() < metadata_until_) {
            co_return metadata_;
        }
    }
    // Concurrent first logins may each fetch it: the document is small and
    // the last one wins, all of them equal.
    const std::string url =
        std::string(without_final_slash(spec_.discovery)) + "/.well-known/openid-configuration";
    auto body = co_await fetch_json(url, "discovery document", request_id, stats);
    if (auto* failure = std::get_if<HttpResponse>(&body)) {
        co_return std::move(*failure);
    }
    auto read = read_discovery(std::get<std::string>(body), spec_.discovery);
    if (const auto* why = std::get_if<std::string>(&read)) {
        log::warn("franceconnect_discovery_refused", {{"connector", connector_}, {"reason", *why}});
        co_return HttpResponse::failure(ErrorClass::upstream_invalid_response, *why);
    }
    auto fresh =
        std::make_shared<const ProviderMetadata>(std::move(std::get<ProviderMetadata>(read)));
    const std::lock_guard lock(mutex_);
    metadata_ = fresh;
    metadata_until_ = Clock::now() + spec_.cache_ttl;
    co_return fresh;
}

boost::asio::awaitable<ProviderClient::Answer<std::shared_ptr<const KeySet>>> ProviderClient::keys(
    const ProviderMetadata& metadata, bool refresh, std::string_view request_id,
    UpstreamStats& stats) const {
    {
        const std::lock_guard lock(mutex_);
        const auto now = Clock::now();
        const bool fresh = keys_ != nullptr && now < keys_until_;
        const bool refreshed_lately =
            last_forced_refresh_ && now - *last_forced_refresh_ < min_forced_refresh;
        if (fresh && (!refresh || refreshed_lately)) {
            co_return keys_;
        }
        if (refresh) {
            last_forced_refresh_ = now;
        }
    }
    std::shared_ptr<const KeySet> fetched;
    if (metadata.jwks_uri.empty()) {
        auto none = KeySet::parse(R"({"keys":[]})");
        fetched = std::make_shared<const KeySet>(std::move(*none));
    } else {
        auto body = co_await fetch_json(metadata.jwks_uri, "JWKS", request_id, stats);
        if (auto* failure = std::get_if<HttpResponse>(&body)) {
            co_return std::move(*failure);
        }
        auto parsed = KeySet::parse(std::get<std::string>(body));
        if (!parsed) {
            log::warn("franceconnect_jwks_refused", {{"connector", connector_}});
            co_return HttpResponse::failure(ErrorClass::upstream_invalid_response,
                                            "the identity provider's JWKS is not a key set");
        }
        fetched = std::make_shared<const KeySet>(std::move(*parsed));
    }
    const std::lock_guard lock(mutex_);
    keys_ = fetched;
    keys_until_ = Clock::now() + spec_.cache_ttl;
    co_return fetched;
}

}  // namespace relais::franceconnect
