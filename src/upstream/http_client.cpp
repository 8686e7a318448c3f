#include "upstream/http_client.hpp"

#include <algorithm>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fstream>
#include <sstream>

#include "upstream/authenticator_impl.hpp"
#include "upstream/curl_multi_service.hpp"
#include "upstream/exchange_rules.hpp"
#include "upstream/plain_http.hpp"

namespace relais::upstream {

namespace {

/// The io_context whose multi handle serves the calling coroutine.
boost::asio::io_context* io_context_of(const boost::asio::any_io_executor& executor) {
    using Plain = boost::asio::io_context::executor_type;
    if (const auto* plain = executor.target<Plain>()) {
        return &plain->context();
    }
    if (const auto* strand = executor.target<boost::asio::strand<Plain>>()) {
        return &strand->get_inner_executor().context();
    }
    return nullptr;
}

/// Authentication replaces whatever the caller put under the same name.
void put_header(std::vector<Header>& headers, Header header) {
    std::erase_if(headers, [&](const Header& h) { return iequals_ascii(h.name, header.name); });
    headers.push_back(std::move(header));
}

/// The token of `oauth`, waited for at most `timeout`; nullopt when that
/// passed first. The fetch itself goes on for the other callers.
boost::asio::awaitable<std::optional<TokenOutcome>> token_within(
    OAuthTokenSource& oauth, boost::asio::io_context& context,
    std::chrono::steady_clock::duration timeout) {
    namespace net = boost::asio;
    const auto executor = co_await net::this_coro::executor;
    net::steady_timer timer(executor, timeout);
    auto [order, error, outcome, timer_error] =
        co_await net::experimental::make_parallel_group(
            net::co_spawn(executor, oauth.token(context), net::deferred),
            timer.async_wait(net::deferred))
            .async_wait(net::experimental::wait_for_one(), net::use_awaitable);
    if (order[0] == 1) {
        co_return std::nullopt;
    }
    if (error) {
        std::rethrow_exception(error);
    }
    co_return std::move(outcome);
}

}  // namespace

bool is_idempotent(std::string_view method) noexcept {
    return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE";
}

boost::asio::awaitable<Result> perform(Request request) {
    using std::chrono::steady_clock;
    const auto started = steady_clock::now();
    auto elapsed = [started] {
        return std::chrono::duration_cast<std::chrono::microseconds>(steady_clock::now() - started);
    };
    boost::asio::io_context* context = io_context_of(co_await boost::asio::this_coro::executor);
    if (context == nullptr) {
        co_return Result{Failure::internal, "not running on an io_context", {}, elapsed()};
    }
    std::shared_ptr<OAuthTokenSource> oauth;
    std::string bearer;
    if (request.auth != nullptr) {
        const Authenticator::Impl& auth = AuthenticatorAccess::impl(*request.auth);
        if (auth.header) {
            put_header(request.headers, *auth.header);
        }
        if (auth.oauth) {
            // The wait for a token counts in the request's timeout, which
            // bounds the whole call.
            oauth = auth.oauth;
            std::optional<TokenOutcome> token =
                co_await token_within(*oauth, *context, request.timeout);
            const auto left =
                request.timeout - std::chrono::duration_cast<std::chrono::milliseconds>(elapsed());
            if (!token || left <= std::chrono::milliseconds::zero()) {
                co_return Result{Failure::timeout,
                                 "no OAuth2 token within the request's timeout",
                                 {},
                                 elapsed()};
            }
            if (!token->failure.empty()) {
                co_return Result{Failure::auth_failed, std::move(token->failure), {}, elapsed()};
            }
            request.timeout = left;
            bearer = std::move(token->token);
            put_header(request.headers, {"Authorization", "Bearer " + bearer});
        }
    }
    // After authentication: its headers come from configuration and are checked too.
    if (auto refused = check_request(request)) {
        co_return Result{Failure::internal, std::move(*refused), {}, elapsed()};
    }
    Result result;
    if (const auto target = plain_target_of(request)) {
        result = co_await perform_plain(*context, request, *target);
    } else {
        auto& service = boost::asio::use_service<CurlMultiService>(*context);
        result = co_await service.async_perform(std::move(request), boost::asio::use_awaitable);
    }
    if (oauth && result.failure == Failure::none && result.response.status == 401) {
        oauth->reject(bearer);
    }
    result.elapsed = elapsed();
    co_return result;
}

SharedPem read_pem_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return nullptr;
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (!in && !in.eof()) {
        return nullptr;
    }
    return std::make_shared<const std::string>(std::move(text).str());
}

ErrorClass error_class_of(Failure failure) noexcept {
    switch (failure) {
        case Failure::unreachable:
        case Failure::auth_failed:
            return ErrorClass::upstream_unreachable;
        case Failure::timeout:
            return ErrorClass::upstream_timeout;
        case Failure::too_large:
            return ErrorClass::upstream_invalid_response;
        case Failure::none:
        case Failure::internal:
            return ErrorClass::internal_error;
    }
    return ErrorClass::internal_error;
}

}  // namespace relais::upstream
