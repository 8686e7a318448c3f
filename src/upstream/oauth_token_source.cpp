#include "upstream/oauth_token_source.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cctype>
#include <cstdlib>
#include <utility>

#include "core/json.hpp"
#include "upstream/credentials.hpp"

namespace relais::upstream {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::size_t max_token_response_bytes = 64 * 1024;
constexpr seconds lifetime_without_expires_in{300};
constexpr seconds max_expiry_margin{30};

Request make_token_request(const OAuth2ClientCredentials& config, TlsOptions tls,
                           milliseconds timeout) {
    Request request;
    request.method = "POST";
    request.url = config.token_url;
    // RFC 6749 §2.3.1: the client id and secret are form-encoded before
    // going into the Basic credentials.
    request.headers = {
        {"Authorization",
         basic_authorization(form_encode(config.client_id), form_encode(config.client_secret))},
        {"Content-Type", "application/x-www-form-urlencoded"},
        {"Accept", "application/json"},
    };
    request.body = "grant_type=client_credentials";
    if (!config.scope.empty()) {
        request.body += "&scope=" + form_encode(config.scope);
    }
    request.timeout = timeout;
    request.connect_timeout = std::min(timeout, request.connect_timeout);
    request.max_response_bytes = max_token_response_bytes;
    request.tls = std::move(tls);
    return request;
}

bool usable_as_header(const std::string& token) {
    return !token.empty() && std::ranges::all_of(token, [](char c) {
        return std::isgraph(static_cast<unsigned char>(c)) != 0;
    });
}

bool is_bearer(std::string_view type) {
    return iequals_ascii(type, "bearer");
}

}  // namespace

std::pair<TokenOutcome, std::chrono::steady_clock::duration> read_token_response(
    const Result& result) {
    using Outcome = std::pair<TokenOutcome, std::chrono::steady_clock::duration>;
    auto failed = [](std::string why) { return Outcome{{{}, std::move(why)}, {}}; };
    if (result.failure != Failure::none) {
        return failed("token endpoint: " + result.detail);
    }
    const long status = result.response.status;
    if (status < 200 || status > 299) {
        return failed("token endpoint answered " + std::to_string(status));
    }
    rapidjson::Document document;
    if (!parse_untrusted_object(result.response.body, document)) {
        return failed("token endpoint answered no JSON object");
    }
    const auto token = document.FindMember("access_token");
    if (token == document.MemberEnd() || !token->value.IsString()) {
        return failed("token endpoint answered no access_token");
    }
    std::string access_token(token->value.GetString(), token->value.GetStringLength());
    if (!usable_as_header(access_token)) {
        return failed("token endpoint answered an unusable access_token");
    }
    const auto type = document.FindMember("token_type");
    if (type != document.MemberEnd() &&
        (!type->value.IsString() || !is_bearer(type->value.GetString()))) {
        return failed("token endpoint answered a token that is not a Bearer token");
    }
    std::chrono::steady_clock::duration lifetime = lifetime_without_expires_in;
    const auto expires_in = document.FindMember("expires_in");
    if (expires_in != document.MemberEnd()) {
        double announced = -1;
        if (expires_in->value.IsNumber()) {
            announced = expires_in->value.GetDouble();
        } else if (expires_in->value.IsString()) {
            announced = std::strtod(expires_in->value.GetString(), nullptr);
        }
        if (announced < 0 || announced > 1e9) {
            return failed("token endpoint answered an invalid expires_in");
        }
        const auto full =
            std::chrono::duration_cast<milliseconds>(std::chrono::duration<double>(announced));
        lifetime = full - std::min<milliseconds>(max_expiry_margin, full / 10);
    }
    return {{std::move(access_token), {}}, lifetime};
}

/// Lives in the fetch coroutine's frame, as a parameter so that it exists
/// even if the coroutine is destroyed before it starts: whatever happens,
/// the waiters are told.
class OAuthTokenSource::FetchGuard {
public:
    explicit FetchGuard(std::shared_ptr<OAuthTokenSource> source) : source_(std::move(source)) {}
    FetchGuard(FetchGuard&&) noexcept = default;
    FetchGuard& operator=(FetchGuard&&) = delete;
    ~FetchGuard() {
        if (source_) {
            source_->finish({{}, "token request abandoned"}, {});
        }
    }

    const Request& request() const { return source_->token_request_; }
    void finish(const TokenOutcome& outcome, Clock::duration lifetime) {
        std::exchange(source_, nullptr)->finish(outcome, lifetime);
    }

private:
    std::shared_ptr<OAuthTokenSource> source_;
};

OAuthTokenSource::OAuthTokenSource(const OAuth2ClientCredentials& config, TlsOptions tls,
                                   milliseconds timeout)
    : token_request_(make_token_request(config, std::move(tls), timeout)) {}

boost::asio::awaitable<TokenOutcome> OAuthTokenSource::token(boost::asio::io_context& context) {
    std::shared_ptr<TokenWaiter> waiter;
    bool start_fetch = false;
    {
        std::lock_guard lock(mutex_);
        if (!token_.empty() && Clock::now() < expires_at_) {
            co_return TokenOutcome{token_, {}};
        }
        waiter = std::make_shared<TokenWaiter>(context);
        waiters_.push_back(waiter);
        start_fetch = !std::exchange(fetching_, true);
    }
    if (start_fetch) {
        // Detached from the caller, so that cancelling the caller does not
        // cancel a request other callers are waiting for.
        boost::asio::co_spawn(context, fetch(FetchGuard(shared_from_this())),
                              boost::asio::detached);
    }
    co_return co_await waiter->async_wait(boost::asio::use_awaitable);
}

void OAuthTokenSource::reject(const std::string& token) {
    std::lock_guard lock(mutex_);
    if (token_ == token) {
        token_.clear();
    }
}

boost::asio::awaitable<void> OAuthTokenSource::fetch(FetchGuard guard) {
    const Result result = co_await perform(guard.request());
    const auto [outcome, lifetime] = read_token_response(result);
    guard.finish(outcome, lifetime);
}

void OAuthTokenSource::finish(const TokenOutcome& outcome, Clock::duration lifetime) {
    std::vector<std::shared_ptr<TokenWaiter>> waiters;
    {
        std::lock_guard lock(mutex_);
        if (outcome.failure.empty() && lifetime > Clock::duration::zero()) {
            token_ = outcome.token;
            expires_at_ = Clock::now() + lifetime;
        }
        fetching_ = false;
        waiters.swap(waiters_);
    }
    for (const auto& waiter : waiters) {
        waiter->fulfil(outcome);
    }
}

}  // namespace relais::upstream
