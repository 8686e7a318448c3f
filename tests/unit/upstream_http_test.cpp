// Outbound HTTP through perform(): methods, headers, concurrency on one
// thread, connection reuse, failures, cancellation and shutdown, against
// tests/support/fake_upstream.py.

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdlib>
#include <memory>

#include "upstream_test_support.hpp"

namespace relais::upstream {
namespace {

using namespace std::chrono_literals;
using testing::fetch;
using testing::get;
using testing::int_at;
using testing::json_of;
using testing::string_at;

class UpstreamHttpTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { fake_ = std::make_unique<testing::FakeUpstreamProcess>(); }
    static void TearDownTestSuite() { fake_.reset(); }

    static std::string url(const std::string& path) { return fake_->url(path); }

    static inline std::unique_ptr<testing::FakeUpstreamProcess> fake_;
};

TEST_F(UpstreamHttpTest, GetReturnsStatusHeadersAndBody) {
    Request request = get(url("/echo/a%20b?x=1&y=%C3%A9"));
    request.headers.push_back({"X-Test", "abc"});
    const Result result = fetch(request);

    ASSERT_EQ(result.failure, Failure::none) << result.detail;
    EXPECT_EQ(result.response.status, 200);
    const std::string* type = find_header(result.response.headers, "content-type");
    ASSERT_NE(type, nullptr);
    EXPECT_EQ(*type, "application/json");
    EXPECT_GT(result.elapsed.count(), 0);
    const auto echo = json_of(result);
    EXPECT_EQ(string_at(echo, "/method"), "GET");
    EXPECT_EQ(string_at(echo, "/path"), "/echo/a%20b");
    EXPECT_EQ(string_at(echo, "/raw_query"), "x=1&y=%C3%A9");
    EXPECT_EQ(string_at(echo, "/query/1/1"), "\xC3\xA9");
    EXPECT_EQ(string_at(echo, "/headers/x-test"), "abc");
    EXPECT_EQ(string_at(echo, "/headers/user-agent"), "relais/" RELAIS_VERSION);
}

TEST_F(UpstreamHttpTest, PostSendsBodyAndHeaders) {
    Request request = get(url("/echo/post"));
    request.method = "POST";
    request.headers = {{"Content-Type", "application/json"}, {"X-Request-ID", "req-1"}};
    request.body = R"({"name":"value","n":2})";
    const Result result = fetch(request);

    ASSERT_EQ(result.failure, Failure::none) << result.detail;
    const auto echo = json_of(result);
    EXPECT_EQ(string_at(echo, "/method"), "POST");
    EXPECT_EQ(string_at(echo, "/body"), request.body);
    EXPECT_EQ(string_at(echo, "/json/name"), "value");
    EXPECT_EQ(string_at(echo, "/headers/content-type"), "application/json");
    EXPECT_EQ(string_at(echo, "/headers/x-request-id"), "req-1");
    EXPECT_EQ(string_at(echo, "/headers/expect"), "<absent>");
}

TEST_F(UpstreamHttpTest, BodyWithoutContentTypeIsNotCalledAForm) {
    Request request = get(url("/echo/raw"));
    request.method = "PUT";
    request.body = "plain";
    const Result result = fetch(request);

    ASSERT_EQ(result.failure, Failure::none) << result.detail;
    const auto echo = json_of(result);
    EXPECT_EQ(string_at(echo, "/body"), "plain");
    EXPECT_EQ(string_at(echo, "/headers/content-type"), "<absent>");
}

TEST_F(UpstreamHttpTest, EveryMethodReachesTheUpstream) {
    for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
        Request request = get(url("/echo/m"));
        request.method = method;
        const Result result = fetch(request);
        ASSERT_EQ(result.failure, Failure::none) << method << ": " << result.detail;
        EXPECT_EQ(string_at(json_of(result), "/method"), method);
    }
    Request head = get(url("/echo/m"));
    head.method = "HEAD";
    const Result result = fetch(head);
    ASSERT_EQ(result.failure, Failure::none) << result.detail;
    EXPECT_EQ(result.response.status, 200);
    EXPECT_TRUE(result.response.body.empty());
}

TEST_F(UpstreamHttpTest, ErrorStatusIsAResponseNotAFailure) {
    const Result result = fetch(get(url("/status/503")));
    ASSERT_EQ(result.failure, Failure::none) << result.detail;
    EXPECT_EQ(result.response.status, 503);
    EXPECT_EQ(int_at(json_of(result), "/status"), 503);
}

TEST_F(UpstreamHttpTest, FiftyConcurrentRequestsShareOneThread) {
    boost::asio::io_context context;
    int succeeded = 0;
    for (int i = 0; i < 50; ++i) {
        boost::asio::co_spawn(
            context, perform(get(url("/delay/400"))), [&](std::exception_ptr error, Result result) {
                if (!error && result.failure == Failure::none && result.response.status == 200) {
                    ++succeeded;
                }
            });
    }
    const auto started = std::chrono::steady_clock::now();
    context.run();
    const auto took = std::chrono::steady_clock::now() - started;

    EXPECT_EQ(succeeded, 50);
    // One after the other they would take 20 s.
    EXPECT_LT(took, 10s);
}

TEST_F(UpstreamHttpTest, ConnectionsAreReusedWithinAThread) {
    boost::asio::io_context context;
    auto sequence = [&]() -> boost::asio::awaitable<std::vector<long long>> {
        std::vector<long long> ids;
        for (int i = 0; i < 5; ++i) {
            const Result result = co_await perform(get(url("/echo/reuse")));
            ids.push_back(int_at(json_of(result), "/connection_id"));
        }
        co_return ids;
    };
    const std::vector<long long> ids = testing::run_on(context, sequence());

    ASSERT_EQ(ids.size(), 5U);
    EXPECT_GT(ids[0], 0);
    for (long long id : ids) {
        EXPECT_EQ(id, ids[0]);
    }
}

TEST_F(UpstreamHttpTest, RefusedConnectionIsUnreachable) {
    const std::string target =
        "http://127.0.0.1:" + std::to_string(testing::unused_port()) + "/x?secret=canary";
    const Result result = fetch(get(target));

    EXPECT_EQ(result.failure, Failure::unreachable);
    EXPECT_EQ(result.detail, "connection refused");
    EXPECT_EQ(error_class_of(result.failure), ErrorClass::upstream_unreachable);
}

TEST_F(UpstreamHttpTest, SlowUpstreamTimesOut) {
    Request request = get(url("/delay/5000"));
    request.timeout = 300ms;
    const Result result = fetch(request);

    EXPECT_EQ(result.failure, Failure::timeout);
    EXPECT_EQ(result.detail, "no complete response within the timeout");
    EXPECT_LT(result.elapsed, std::chrono::microseconds(3s));
    EXPECT_EQ(error_class_of(result.failure), ErrorClass::upstream_timeout);
}

TEST_F(UpstreamHttpTest, BodyOverTheLimitIsTooLarge) {
    for (const char* path : {"/big/100000", "/big/100000?chunked=1"}) {
        Request request = get(url(path));
        request.max_response_bytes = 1000;
        const Result result = fetch(request);
        EXPECT_EQ(result.failure, Failure::too_large) << path;
        EXPECT_EQ(result.detail, "response body larger than 1000 bytes") << path;
    }
}

TEST_F(UpstreamHttpTest, BodyAtTheLimitIsAccepted) {
    Request request = get(url("/big/1000?chunked=1"));
    request.max_response_bytes = 1000;
    const Result result = fetch(request);
    ASSERT_EQ(result.failure, Failure::none) << result.detail;
    EXPECT_EQ(result.response.body.size(), 1000U);
}

TEST_F(UpstreamHttpTest, RequestsCurlCannotSendAreInternal) {
    struct Case {
        std::string url;
        std::string method;
        std::vector<Header> headers;
        std::string detail;
    };
    const std::vector<Case> cases = {
        {"ftp://127.0.0.1/file", "GET", {}, "URL scheme is not http or https"},
        {"file:///etc/passwd", "GET", {}, "URL scheme is not http or https"},
        {"http://[::1", "GET", {}, "malformed URL"},
        {url("/echo/x"), "TRACE", {}, "unsupported method"},
        {url("/echo/x"),
         "GET",
         {{"X-Bad", "a\r\nInjected: yes"}},
         "header value contains a line break"},
        {url("/echo/x"), "GET", {{"Bad Name", "v"}}, "invalid header name"},
    };
    for (const Case& c : cases) {
        Request request = get(c.url);
        request.method = c.method;
        request.headers = c.headers;
        const Result result = fetch(request);
        EXPECT_EQ(result.failure, Failure::internal) << c.url << " " << c.method;
        EXPECT_EQ(result.detail, c.detail) << c.url << " " << c.method;
    }
}

TEST_F(UpstreamHttpTest, ProxyEnvironmentIsIgnored) {
    setenv("http_proxy", "http://127.0.0.1:1", 1);
    setenv("ALL_PROXY", "http://127.0.0.1:1", 1);
    const Result result = fetch(get(url("/echo/direct")));
    unsetenv("http_proxy");
    unsetenv("ALL_PROXY");
    ASSERT_EQ(result.failure, Failure::none) << result.detail;
    EXPECT_EQ(result.response.status, 200);
}

TEST_F(UpstreamHttpTest, CancellationAbortsTheTransfer) {
    boost::asio::io_context context;
    boost::asio::cancellation_signal signal;
    std::exception_ptr error;
    bool completed = false;
    boost::asio::co_spawn(
        context, perform(get(url("/delay/5000"))),
        boost::asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e, Result) {
            error = e;
            completed = true;
        }));
    boost::asio::steady_timer timer(context, 200ms);
    timer.async_wait(
        [&](boost::system::error_code) { signal.emit(boost::asio::cancellation_type::terminal); });
    const auto started = std::chrono::steady_clock::now();
    context.run();
    context.restart();

    ASSERT_TRUE(completed);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
    ASSERT_TRUE(error);
    try {
        std::rethrow_exception(error);
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), boost::asio::error::operation_aborted);
    }
    // The multi handle is still usable afterwards.
    const Result after = testing::run_on(context, perform(get(url("/echo/after"))));
    EXPECT_EQ(after.failure, Failure::none) << after.detail;
}

TEST_F(UpstreamHttpTest, DestroyingTheContextAbandonsTransfers) {
    bool completed = false;
    {
        boost::asio::io_context context;
        for (int i = 0; i < 3; ++i) {
            boost::asio::co_spawn(context, perform(get(url("/delay/3000"))),
                                  [&](std::exception_ptr, Result) { completed = true; });
        }
        context.run_for(300ms);
    }
    EXPECT_FALSE(completed);
}

TEST_F(UpstreamHttpTest, RunsOnAStrand) {
    boost::asio::io_context context;
    const Result result = testing::run_on(context, [&]() -> boost::asio::awaitable<Result> {
        co_return co_await boost::asio::co_spawn(boost::asio::make_strand(context),
                                                 perform(get(url("/echo/strand"))),
                                                 boost::asio::use_awaitable);
    }());
    EXPECT_EQ(result.failure, Failure::none) << result.detail;
}

TEST_F(UpstreamHttpTest, RefusesExecutorsWithoutAnIoContext) {
    boost::asio::thread_pool pool(1);
    auto future =
        boost::asio::co_spawn(pool, perform(get(url("/echo/pool"))), boost::asio::use_future);
    const Result result = future.get();
    EXPECT_EQ(result.failure, Failure::internal);
    EXPECT_EQ(result.detail, "not running on an io_context");
}

}  // namespace
}  // namespace relais::upstream
