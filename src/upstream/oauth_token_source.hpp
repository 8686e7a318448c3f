#pragma once
/// @file
/// OAuth2 client-credentials tokens (RFC 6749 §4.4) for one upstream, shared
/// by every I/O thread. The token is cached until shortly before it
/// expires. When none is valid, the first caller starts one token request on
/// its own event loop; every caller, on any thread, waits for that request
/// instead of sending its own.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "upstream/http_client.hpp"
#include "upstream/token_waiter.hpp"

namespace relais::upstream {

class OAuthTokenSource : public std::enable_shared_from_this<OAuthTokenSource> {
public:
    OAuthTokenSource(const OAuth2ClientCredentials& config, TlsOptions tls,
                     std::chrono::milliseconds timeout);

    /// A token that is valid for a while yet. `context` is the caller's, on
    /// which a token request is started if one is needed. Throws
    /// operation_aborted if the caller is cancelled while waiting.
    boost::asio::awaitable<TokenOutcome> token(boost::asio::io_context& context);

    /// The upstream refused `token` (401): forget it, unless a newer token
    /// has replaced it meanwhile.
    void reject(const std::string& token);

private:
    class FetchGuard;
    using Clock = std::chrono::steady_clock;

    static boost::asio::awaitable<void> fetch(FetchGuard guard);
    void finish(const TokenOutcome& outcome, Clock::duration lifetime);

    const Request token_request_;
    std::mutex mutex_;
    std::string token_;
    Clock::time_point expires_at_;
    bool fetching_ = false;
    std::vector<std::shared_ptr<TokenWaiter>> waiters_;
};

/// Reads a token endpoint's answer: the token and how long to use it
/// (`expires_in` minus a tenth, at most 30 s; 5 minutes when absent).
std::pair<TokenOutcome, std::chrono::steady_clock::duration> read_token_response(
    const Result& result);

}  // namespace relais::upstream
