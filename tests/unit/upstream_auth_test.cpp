// Upstream authentication: fixed headers (Basic, Bearer, API key) and OAuth2
// client credentials with a token shared by concurrent callers and threads,
// against tests/support/fake_upstream.py.

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <thread>

#include "upstream_test_support.hpp"

namespace relais::upstream {
namespace {

using namespace std::chrono_literals;
using testing::fake_stat;
using testing::FakeUpstreamProcess;
using testing::fetch;
using testing::get;
using testing::json_of;
using testing::string_at;

Request authenticated(const std::string& url, const Authenticator& auth) {
    Request request = get(url);
    request.auth = &auth;
    return request;
}

void set_token_lifetime(const FakeUpstreamProcess& fake, int seconds) {
    Request request = get(fake.url("/_control/config"));
    request.method = "POST";
    request.body = R"({"token_expires_in":)" + std::to_string(seconds) + "}";
    ASSERT_EQ(fetch(request).response.status, 200);
}

/// Runs `count` concurrent requests on `context`; returns how many got 200.
int run_concurrently(boost::asio::io_context& context, const Request& request, int count) {
    int ok = 0;
    for (int i = 0; i < count; ++i) {
        boost::asio::co_spawn(context, perform(request),
                              [&ok](std::exception_ptr error, Result result) {
                                  ok += !error && result.response.status == 200 ? 1 : 0;
                              });
    }
    context.run();
    context.restart();
    return ok;
}

TEST(UpstreamAuthTest, BasicCredentialsReachTheUpstream) {
    FakeUpstreamProcess fake;
    const Authenticator auth(BasicAuth{"user", "pa:ss"}, {}, 5s);
    const Result result = fetch(authenticated(fake.url("/echo/basic"), auth));

    ASSERT_EQ(result.failure, Failure::none) << result.detail;
    EXPECT_EQ(string_at(json_of(result), "/headers/authorization"), "Basic dXNlcjpwYTpzcw==");
}

TEST(UpstreamAuthTest, BearerTokenReplacesTheCallersAuthorization) {
    FakeUpstreamProcess fake;
    const Authenticator auth(BearerAuth{"static-token"}, {}, 5s);
    Request request = authenticated(fake.url("/echo/bearer"), auth);
    request.headers.push_back({"authorization", "Bearer from-the-caller"});
    const Result result = fetch(request);

    ASSERT_EQ(result.failure, Failure::none) << result.detail;
    EXPECT_EQ(string_at(json_of(result), "/headers/authorization"), "Bearer static-token");
}

TEST(UpstreamAuthTest, ApiKeyHeaderReachesTheUpstream) {
    FakeUpstreamProcess fake;
    const Authenticator auth(ApiKeyHeaderAuth{"X-API-Key", "k-123"}, {}, 5s);
    const Result result = fetch(authenticated(fake.url("/echo/key"), auth));

    ASSERT_EQ(result.failure, Failure::none) << result.detail;
    EXPECT_EQ(string_at(json_of(result), "/headers/x-api-key"), "k-123");
    EXPECT_EQ(string_at(json_of(result), "/headers/authorization"), "<absent>");
}

TEST(UpstreamAuthTest, OAuthTokenIsFetchedOnceForConcurrentRequests) {
    FakeUpstreamProcess fake;
    const Authenticator auth(
        OAuth2ClientCredentials{fake.url("/oauth/token"), "relais", "s3cret", "read write"}, {},
        5s);
    boost::asio::io_context context;

    EXPECT_EQ(run_concurrently(context, authenticated(fake.url("/protected/a"), auth), 20), 20);
    EXPECT_EQ(run_concurrently(context, authenticated(fake.url("/protected/b"), auth), 5), 5);
    EXPECT_EQ(fake_stat(fake, "tokens_issued"), 1);
}

TEST(UpstreamAuthTest, OAuthTokenIsSharedAcrossThreads) {
    FakeUpstreamProcess fake;
    const Authenticator auth(
        OAuth2ClientCredentials{fake.url("/oauth/token"), "relais", "s3cret", ""}, {}, 5s);
    const Request request = authenticated(fake.url("/protected/threads"), auth);
    // Like the server, contexts go away only once every I/O thread has
    // stopped: the thread that fetched the token may still be posting to
    // the others' contexts when they run out of work.
    boost::asio::io_context contexts[3];
    int ok[3] = {0, 0, 0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i) {
        threads.emplace_back([&request, &context = contexts[i], &count = ok[i]] {
            count = run_concurrently(context, request, 10);
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }

    EXPECT_EQ(ok[0] + ok[1] + ok[2], 30);
    EXPECT_EQ(fake_stat(fake, "tokens_issued"), 1);
}

TEST(UpstreamAuthTest, OAuthTokenIsFetchedAgainAfterItExpires) {
    FakeUpstreamProcess fake;
    set_token_lifetime(fake, 1);
    const Authenticator auth(
        OAuth2ClientCredentials{fake.url("/oauth/token"), "relais", "s3cret", ""}, {}, 5s);
    const Request request = authenticated(fake.url("/protected/expiry"), auth);

    EXPECT_EQ(fetch(request).response.status, 200);
    EXPECT_EQ(fetch(request).response.status, 200);
    EXPECT_EQ(fake_stat(fake, "tokens_issued"), 1);
    std::this_thread::sleep_for(1100ms);
    EXPECT_EQ(fetch(request).response.status, 200);
    EXPECT_EQ(fake_stat(fake, "tokens_issued"), 2);
}

TEST(UpstreamAuthTest, RejectedTokenIsDroppedFromTheCache) {
    FakeUpstreamProcess fake;
    const Authenticator auth(
        OAuth2ClientCredentials{fake.url("/oauth/token"), "relais", "s3cret", ""}, {}, 5s);
    const Request request = authenticated(fake.url("/protected/revoked"), auth);
    EXPECT_EQ(fetch(request).response.status, 200);

    Request revoke = get(fake.url("/_control/revoke"));
    revoke.method = "POST";
    ASSERT_EQ(fetch(revoke).response.status, 200);

    const Result refused = fetch(request);
    EXPECT_EQ(refused.failure, Failure::none);
    EXPECT_EQ(refused.response.status, 401);
    EXPECT_EQ(fetch(request).response.status, 200);
    EXPECT_EQ(fake_stat(fake, "tokens_issued"), 2);
}

TEST(UpstreamAuthTest, WrongClientSecretIsAuthFailed) {
    FakeUpstreamProcess fake;
    const Authenticator auth(
        OAuth2ClientCredentials{fake.url("/oauth/token"), "relais", "wrong", ""}, {}, 5s);
    const Result result = fetch(authenticated(fake.url("/protected/x"), auth));

    EXPECT_EQ(result.failure, Failure::auth_failed);
    EXPECT_EQ(result.detail, "token endpoint answered 401");
    EXPECT_EQ(error_class_of(result.failure), ErrorClass::upstream_unreachable);
    EXPECT_EQ(fake_stat(fake, "requests"), 1) << "the protected resource must not be called";
}

TEST(UpstreamAuthTest, UnreachableTokenEndpointIsAuthFailed) {
    FakeUpstreamProcess fake;
    const Authenticator auth(
        OAuth2ClientCredentials{
            "http://127.0.0.1:" + std::to_string(testing::unused_port()) + "/oauth/token", "relais",
            "s3cret", ""},
        {}, 5s);
    const Result result = fetch(authenticated(fake.url("/protected/x"), auth));

    EXPECT_EQ(result.failure, Failure::auth_failed);
    EXPECT_EQ(result.detail, "token endpoint: connection refused");
}

TEST(UpstreamAuthTest, TokenRequestCarriesGrantScopeAndClientCredentials) {
    FakeUpstreamProcess fake;
    const Authenticator auth(
        OAuth2ClientCredentials{fake.url("/oauth/token"), "my client", "s&cret", "read write"}, {},
        5s);
    fetch(authenticated(fake.url("/protected/x"), auth));

    const auto recorded = json_of(fetch(get(fake.url("/_control/requests"))));
    EXPECT_EQ(string_at(recorded, "/0/method"), "POST");
    EXPECT_EQ(string_at(recorded, "/0/path"), "/oauth/token");
    EXPECT_EQ(string_at(recorded, "/0/body"), "grant_type=client_credentials&scope=read+write");
    EXPECT_EQ(string_at(recorded, "/0/headers/content-type"), "application/x-www-form-urlencoded");
    // RFC 6749 §2.3.1: form-encoded, then Basic: "my+client:s%26cret".
    EXPECT_EQ(string_at(recorded, "/0/headers/authorization"), "Basic bXkrY2xpZW50OnMlMjZjcmV0");
}

TEST(UpstreamAuthTest, CancelledWaiterLeavesTheTokenRequestToTheOthers) {
    FakeUpstreamProcess fake;
    // A slow token endpoint that answers no token: every caller waits ~500 ms.
    const Authenticator auth(
        OAuth2ClientCredentials{fake.url("/delay/500"), "relais", "s3cret", ""}, {}, 20s);
    const Request request = authenticated(fake.url("/protected/x"), auth);
    boost::asio::io_context context;
    boost::asio::cancellation_signal signal;
    std::exception_ptr cancelled_error;
    Result other;
    boost::asio::co_spawn(
        context, perform(request),
        boost::asio::bind_cancellation_slot(
            signal.slot(), [&](std::exception_ptr e, Result) { cancelled_error = e; }));
    boost::asio::co_spawn(context, perform(request),
                          [&](std::exception_ptr, Result r) { other = r; });
    boost::asio::steady_timer timer(context, 100ms);
    timer.async_wait(
        [&](boost::system::error_code) { signal.emit(boost::asio::cancellation_type::terminal); });
    context.run();

    ASSERT_TRUE(cancelled_error);
    EXPECT_THROW(std::rethrow_exception(cancelled_error), boost::system::system_error);
    EXPECT_EQ(other.failure, Failure::auth_failed);
    EXPECT_EQ(other.detail, "token endpoint answered no access_token");
}

TEST(UpstreamAuthTest, TheWaitForATokenCountsInTheRequestsTimeout) {
    FakeUpstreamProcess fake;
    // The token endpoint takes 2 s (and its own timeout is 20 s); the call
    // has 300 ms in all.
    const Authenticator auth(
        OAuth2ClientCredentials{fake.url("/delay/2000"), "relais", "s3cret", ""}, {}, 20s);
    Request request = authenticated(fake.url("/protected/x"), auth);
    request.timeout = 300ms;
    boost::asio::io_context context;
    const auto started = std::chrono::steady_clock::now();
    std::chrono::steady_clock::duration took{};
    Result result;
    boost::asio::co_spawn(context, perform(request), [&](std::exception_ptr, Result r) {
        took = std::chrono::steady_clock::now() - started;
        result = std::move(r);
    });
    // The fetch goes on after the call gave up (for other callers): the
    // loop ends with it.
    context.run();
    EXPECT_LT(took, 1500ms);
    EXPECT_EQ(result.failure, Failure::timeout);
    EXPECT_EQ(result.detail, "no OAuth2 token within the request's timeout");
    EXPECT_EQ(error_class_of(result.failure), ErrorClass::upstream_timeout);
}

TEST(UpstreamAuthTest, WaitersLearnWhenTheFetchingLoopGoesAway) {
    FakeUpstreamProcess fake;
    const Authenticator auth(
        OAuth2ClientCredentials{fake.url("/delay/5000"), "relais", "s3cret", ""}, {}, 20s);
    const Request request = authenticated(fake.url("/protected/x"), auth);
    auto fetching = std::make_unique<boost::asio::io_context>();
    bool fetcher_completed = false;
    boost::asio::co_spawn(*fetching, perform(request),
                          [&](std::exception_ptr, Result) { fetcher_completed = true; });
    fetching->run_for(200ms);  // the token request is now in flight on `fetching`

    boost::asio::io_context waiting;
    std::optional<Result> waited;
    boost::asio::co_spawn(waiting, perform(request),
                          [&](std::exception_ptr, Result r) { waited = std::move(r); });
    waiting.poll();  // runs until it waits for the token request of `fetching`
    ASSERT_FALSE(waited);
    fetching.reset();
    waiting.run_for(5s);

    EXPECT_FALSE(fetcher_completed);
    ASSERT_TRUE(waited);
    EXPECT_EQ(waited->failure, Failure::auth_failed);
    EXPECT_EQ(waited->detail, "token request abandoned");
}

}  // namespace
}  // namespace relais::upstream
