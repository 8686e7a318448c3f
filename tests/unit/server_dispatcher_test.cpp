#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <stdexcept>

#include "auth/client_registry.hpp"
#include "auth/nonce_cache.hpp"
#include "core/runtime.hpp"
#include "server/dispatcher.hpp"

using namespace relais;
using namespace relais::server;

namespace {

/// Endpoints: "a" and "b" answer 200 and remember the request; "boom"
/// throws; "bad-status" answers with an impossible status.
class FakeConnector final : public Connector {
public:
    FakeConnector() : endpoints_{{"a", true}, {"b", true}, {"boom", true}, {"bad-status", true}} {}

    std::span<const EndpointInfo> endpoints() const override { return endpoints_; }

    boost::asio::awaitable<HttpResponse> handle(std::size_t endpoint,
                                                const IncomingRequest& request) const override {
        if (endpoint == 2) {
            throw std::runtime_error("secret canary in an exception");
        }
        if (endpoint == 3) {
            HttpResponse odd;
            odd.status = 1000;
            co_return odd;
        }
        last = request;
        co_return HttpResponse::data("true");
    }

    mutable std::optional<IncomingRequest> last;

private:
    std::vector<EndpointInfo> endpoints_;
};

class DispatcherTest : public ::testing::Test {
protected:
    DispatcherTest() {
        RelaisConfig config;
        ClientConfig client;
        client.name = "wcs";
        client.credentials.push_back(ApiKeyCredentials{"good-key"});
        client.families = {"reference"};
        client.grants["echo"] = {"a", "boom", "bad-status"};
        config.clients.push_back(client);

        auto entry = std::make_unique<ConnectorEntry>();
        entry->kind = "test";
        entry->slug = "echo";
        entry->family = "reference";
        auto fake = std::make_shared<FakeConnector>();
        connector = fake.get();
        entry->connector = fake;
        entry->endpoint_index = {{"a", 0}, {"b", 1}, {"boom", 2}, {"bad-status", 3}};
        entry->max_concurrency = 2;
        std::vector<std::unique_ptr<ConnectorEntry>> entries;
        entries.push_back(std::move(entry));
        auto clients = std::make_unique<const auth::ClientRegistry>(config, entries);
        runtime = std::make_shared<const Runtime>(std::move(config),
                                                  std::vector<std::shared_ptr<PluginModule>>{},
                                                  std::move(entries), std::move(clients));
        slot.emplace(std::make_shared<const ServingState>(runtime, metrics));
        dispatcher.emplace(*slot, metrics, nonces, draining);
    }

    Outcome run(std::string method, std::string target, std::vector<Header> headers = {}) {
        RawRequest request;
        request.method = std::move(method);
        request.target = std::move(target);
        request.headers = std::move(headers);
        request.body = "{}";
        request.remote = boost::asio::ip::make_address("127.0.0.1");
        request.request_id = "req-1";
        boost::asio::io_context io;
        std::optional<Outcome> outcome;
        boost::asio::co_spawn(io, dispatcher->dispatch(std::move(request)),
                              [&](std::exception_ptr error, Outcome result) {
                                  if (error) {
                                      std::rethrow_exception(error);
                                  }
                                  outcome = std::move(result);
                              });
        io.run();
        return std::move(*outcome);
    }

    std::shared_ptr<const Runtime> runtime;

    static std::string err_class(const Outcome& outcome) {
        return outcome.response.error ? std::string(describe(*outcome.response.error).slug) : "";
    }

    MetricsRegistry metrics;
    auth::NonceCache nonces;
    std::atomic<bool> draining{false};
    std::optional<StateSlot> slot;
    std::optional<Dispatcher> dispatcher;
    const FakeConnector* connector = nullptr;
};

}  // namespace

TEST_F(DispatcherTest, HealthAndReadyNeedNoCredentials) {
    auto health = run("GET", "/_relais/health");
    EXPECT_EQ(health.response.status, 200u);
    EXPECT_EQ(health.response.body, R"({"status":"ok"})");
    EXPECT_TRUE(health.labels.admin);
    EXPECT_EQ(run("GET", "/_relais/health/").response.status, 200u);
    EXPECT_EQ(run("GET", "/_relais/ready").response.status, 200u);
    draining = true;
    auto ready = run("GET", "/_relais/ready");
    EXPECT_EQ(ready.response.status, 503u);
    EXPECT_EQ(err_class(ready), "shutting-down");
}

TEST_F(DispatcherTest, MetricsPageIsPrometheusText) {
    auto page = run("GET", "/_relais/metrics");
    EXPECT_EQ(page.response.status, 200u);
    EXPECT_EQ(page.response.content_type, metrics_content_type);
    EXPECT_NE(page.response.body.find("relais_build_info"), std::string::npos);
    EXPECT_EQ(run("POST", "/_relais/metrics").response.status, 405u);
    EXPECT_EQ(run("GET", "/_relais/nope").response.status, 404u);
}

TEST_F(DispatcherTest, AuthenticationComesBeforeRouting) {
    auto unknown = run("GET", "/test/nope/a");
    EXPECT_EQ(unknown.response.status, 401u);
    EXPECT_EQ(err_class(unknown), "missing-credentials");
    EXPECT_EQ(unknown.labels.connector, "-");
    auto wrong = run("GET", "/test/echo/a?apikey=bad-key");
    EXPECT_EQ(wrong.response.status, 403u);
    EXPECT_EQ(err_class(wrong), "invalid-credentials");
    EXPECT_EQ(wrong.labels.client, "-");
}

TEST_F(DispatcherTest, UnknownRoutesAre404WithoutRequestLabels) {
    for (const char* target : {"/test/nope/a?apikey=good-key", "/nope/echo/a?apikey=good-key",
                               "/test/echo?apikey=good-key", "/?apikey=good-key"}) {
        auto outcome = run("GET", target);
        EXPECT_EQ(outcome.response.status, 404u) << target;
        EXPECT_EQ(err_class(outcome), "not-found");
        EXPECT_EQ(outcome.labels.client, "wcs");
        EXPECT_EQ(outcome.labels.connector, "-");
        EXPECT_EQ(outcome.labels.metrics, nullptr);
    }
    auto endpoint = run("GET", "/test/echo/zzz?apikey=good-key");
    EXPECT_EQ(endpoint.response.status, 404u);
    EXPECT_EQ(endpoint.labels.connector, "echo");
    EXPECT_EQ(endpoint.labels.endpoint, "-");
}

TEST_F(DispatcherTest, MalformedTargetIsBadRequest) {
    auto outcome = run("GET", "/test/echo/a?apikey=%zz");
    EXPECT_EQ(outcome.response.status, 400u);
    EXPECT_EQ(err_class(outcome), "bad-request");
}

TEST_F(DispatcherTest, GrantsAreChecked) {
    auto outcome = run("GET", "/test/echo/b?apikey=good-key");
    EXPECT_EQ(outcome.response.status, 403u);
    EXPECT_EQ(err_class(outcome), "not-granted");
    EXPECT_EQ(outcome.labels.endpoint, "b");
}

TEST_F(DispatcherTest, ConnectorGetsDecodedRequestWithoutCredentials) {
    auto outcome = run("POST", "/test/echo/a/dossier%2042/x/?apikey=good-key&q=a+b&q=%C3%A9",
                       {{"Authorization", "Bearer good-key"}, {"X-Custom", "1"}});
    ASSERT_EQ(outcome.response.status, 200u) << outcome.response.body;
    ASSERT_TRUE(connector->last);
    const IncomingRequest& seen = *connector->last;
    EXPECT_EQ(seen.method, "POST");
    EXPECT_EQ(seen.rest, "dossier 42/x");
    ASSERT_EQ(seen.query.size(), 2u);
    EXPECT_EQ(seen.query[0].second, "a b");
    EXPECT_EQ(seen.query[1].second, "\xC3\xA9");
    EXPECT_EQ(find_header(seen.headers, "authorization"), nullptr);
    EXPECT_NE(find_header(seen.headers, "x-custom"), nullptr);
    EXPECT_EQ(seen.body, "{}");
    EXPECT_EQ(seen.request_id, "req-1");
    EXPECT_EQ(seen.client, "wcs");
    EXPECT_EQ(outcome.labels.kind, "test");
    EXPECT_EQ(outcome.labels.connector, "echo");
    EXPECT_EQ(outcome.labels.endpoint, "a");
    EXPECT_NE(outcome.labels.metrics, nullptr);
    EXPECT_EQ(metrics.in_flight("echo").load(), 0u);
}

TEST_F(DispatcherTest, ConcurrencyLimitAnswersOverloaded) {
    metrics.in_flight("echo") = 2;
    auto outcome = run("GET", "/test/echo/a?apikey=good-key");
    EXPECT_EQ(outcome.response.status, 503u);
    EXPECT_EQ(err_class(outcome), "overloaded");
    EXPECT_EQ(metrics.in_flight("echo").load(), 2u);
    metrics.in_flight("echo") = 1;
    EXPECT_EQ(run("GET", "/test/echo/a?apikey=good-key").response.status, 200u);
    EXPECT_EQ(metrics.in_flight("echo").load(), 1u);
    metrics.in_flight("echo") = 0;
}

TEST_F(DispatcherTest, ConcurrencyCountSurvivesAReload) {
    metrics.in_flight("echo") = 2;
    // A reload builds a new state over the same connectors: the requests
    // admitted before it still count.
    slot->exchange(std::make_shared<const ServingState>(runtime, metrics));
    EXPECT_EQ(err_class(run("GET", "/test/echo/a?apikey=good-key")), "overloaded");
    metrics.in_flight("echo") = 0;
}

TEST_F(DispatcherTest, ConnectorFailuresBecomeInternalErrors) {
    auto thrown = run("GET", "/test/echo/boom?apikey=good-key");
    EXPECT_EQ(thrown.response.status, 500u);
    EXPECT_EQ(err_class(thrown), "internal-error");
    EXPECT_EQ(thrown.response.body.find("canary"), std::string::npos);
    EXPECT_EQ(metrics.in_flight("echo").load(), 0u);
    auto odd = run("GET", "/test/echo/bad-status?apikey=good-key");
    EXPECT_EQ(odd.response.status, 500u);
    EXPECT_EQ(err_class(odd), "internal-error");
}
