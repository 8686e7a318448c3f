#pragma once
/// @file
/// relais's side of the conversation with one OpenID provider: its metadata
/// (discovery document fetched at first use, or the endpoints of the
/// connector file), its signing keys (JWKS, cached, refetched once when a
/// token names an unknown key), and single calls whose transport failures
/// are already turned into the answers relais gives (502, 504).

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/http_types.hpp"
#include "franceconnect/connector_spec.hpp"
#include "franceconnect/jwt.hpp"
#include "upstream/http_client.hpp"

namespace relais::franceconnect {

/// Shortest pause between two JWKS fetches forced by an unknown key id, so
/// that tokens naming random keys cannot make relais hammer the provider.
inline constexpr std::chrono::seconds min_forced_refresh{10};

class ProviderClient {
public:
    /// `connector` names the connector in logs.
    ProviderClient(ProviderSpec spec, std::string connector);

    template <typename T>
    using Answer = std::variant<T, HttpResponse>;

    /// The provider's endpoints: cached for cache_ttl; a failed discovery is
    /// 502/504 and is tried again at the next call.
    boost::asio::awaitable<Answer<std::shared_ptr<const ProviderMetadata>>> metadata(
        std::string_view request_id, UpstreamStats& stats) const;

    /// The provider's keys (an empty set when it has no jwks_uri). With
    /// `refresh`, fetched again unless that was done less than
    /// min_forced_refresh ago.
    boost::asio::awaitable<Answer<std::shared_ptr<const KeySet>>> keys(
        const ProviderMetadata& metadata, bool refresh, std::string_view request_id,
        UpstreamStats& stats) const;

    /// Sends `request` (URL, method, headers and body set by the caller) with
    /// the provider's timeouts and TLS. The answer whatever its status, or
    /// the failure to send back; `what` ("token endpoint"...) names the call
    /// in that failure and in logs.
    boost::asio::awaitable<Answer<upstream::Response>> call(upstream::Request request,
                                                            std::string_view what,
                                                            std::string_view request_id,
                                                            UpstreamStats& stats) const;

private:
    using Clock = std::chrono::steady_clock;

    boost::asio::awaitable<Answer<std::string>> fetch_json(const std::string& url,
                                                           std::string_view what,
                                                           std::string_view request_id,
                                                           UpstreamStats& stats) const;

    ProviderSpec spec_;
    std::string connector_;
    mutable std::mutex mutex_;
    mutable std::shared_ptr<const ProviderMetadata> metadata_;
    mutable Clock::time_point metadata_until_{};
    mutable std::shared_ptr<const KeySet> keys_;
    mutable Clock::time_point keys_until_{};
    mutable std::optional<Clock::time_point> last_forced_refresh_;
};

/// Reads a discovery document: the endpoints relais needs (issuer,
/// authorization, token, userinfo, jwks_uri; end_session when present),
/// each an http(s) URL, and an issuer equal to `expected_issuer` (a final
/// '/' aside). The reason in words when it is not usable.
std::variant<ProviderMetadata, std::string> read_discovery(std::string_view json,
                                                           std::string_view expected_issuer);

}  // namespace relais::franceconnect
