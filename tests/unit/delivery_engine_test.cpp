// The delivery engine against a real outbox in a temporary directory: a
// scripted connector for pushes, tests/support/fake_upstream.py as the GRU
// core for triggers.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <mutex>
#include <thread>

#include "../fixtures/config/config_test_support.hpp"
#include "auth/client_registry.hpp"
#include "auth/publik_signature.hpp"
#include "core/runtime.hpp"
#include "delivery/engine.hpp"
#include "delivery/envelope.hpp"
#include "outbox/outbox.hpp"
#include "upstream_test_support.hpp"

namespace relais {
namespace {

using namespace std::chrono_literals;
using outbox::Kind;
using outbox::State;

constexpr const char* family = "economie-urbanisme";
constexpr const char* demand = "https://demarches.example.org/urbanisme/permis/42/";

struct Call {
    std::string message;
    std::string tracking_id;
    std::string idempotency_key;
    std::string request_id;
    unsigned attempt = 0;
};

/// Endpoint "send" is async; what `deliver` answers depends on the message:
/// ok (200 {"id":"PC-1"}), number (200 {"id":42}), flaky (503 twice, then
/// 200), down (503), bad (400), noref (200 {}), slow (200 after 100 ms),
/// hang (waits until cancelled).
class ScriptedConnector final : public Connector {
public:
    ScriptedConnector() : endpoints_{{"send", true, true}, {"sync", true, false}} {}

    std::span<const EndpointInfo> endpoints() const override { return endpoints_; }

    boost::asio::awaitable<HttpResponse> handle(std::size_t,
                                                const IncomingRequest&) const override {
        co_return HttpResponse::data("null");
    }

    boost::asio::awaitable<upstream::Result> deliver(
        std::size_t, std::string_view message, const DeliveryContext& context) const override {
        {
            const std::lock_guard lock(mutex);
            calls.push_back({std::string(message), std::string(context.tracking_id),
                             std::string(context.idempotency_key), std::string(context.request_id),
                             context.attempt});
        }
        const int now_running = ++running;
        int seen = most_running.load();
        while (now_running > seen && !most_running.compare_exchange_weak(seen, now_running)) {
        }
        struct Leave {
            std::atomic<int>& count;
            ~Leave() { --count; }
        } leave{running};

        upstream::Result result;
        result.elapsed = 1ms;
        result.response.status = 200;
        result.response.body = R"({"id":"PC-1"})";
        if (message == "hang" || message == "slow") {
            boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor,
                                            message == "hang" ? std::chrono::milliseconds(60s)
                                                              : std::chrono::milliseconds(100));
            co_await timer.async_wait(boost::asio::use_awaitable);
        } else if (message == "number") {
            result.response.body = R"({"id":42})";
        } else if (message == "flaky") {
            result.response.status = context.attempt < 3 ? 503 : 200;
        } else if (message == "down") {
            result.response.status = 503;
        } else if (message == "bad") {
            result.response.status = 400;
        } else if (message == "noref") {
            result.response.body = "{}";
        }
        co_return result;
    }

    std::vector<Call> calls_of(const std::string& tracking_id) const {
        const std::lock_guard lock(mutex);
        std::vector<Call> out;
        std::copy_if(calls.begin(), calls.end(), std::back_inserter(out),
                     [&](const Call& call) { return call.tracking_id == tracking_id; });
        return out;
    }

    std::size_t call_count() const {
        const std::lock_guard lock(mutex);
        return calls.size();
    }

    mutable std::mutex mutex;
    mutable std::vector<Call> calls;
    mutable std::atomic<int> running{0};
    mutable std::atomic<int> most_running{0};

private:
    std::vector<EndpointInfo> endpoints_;
};

/// Runs an outbox coroutine to completion from the test's thread.
template <typename T>
T wait_for(boost::asio::awaitable<T> task) {
    boost::asio::io_context io;
    return upstream::testing::run_on(io, std::move(task));
}

void wait_for(boost::asio::awaitable<void> task) {
    boost::asio::io_context io;
    upstream::testing::run_on(
        io, [](boost::asio::awaitable<void> inner) -> boost::asio::awaitable<bool> {
            co_await std::move(inner);
            co_return true;
        }(std::move(task)));
}

class DeliveryEngineTest : public ::testing::Test {
protected:
    DeliveryEngineTest() {
        settings.poll_interval = 20ms;
        store.emplace(dir.path() / "outbox", outbox::Key{}, settings);
        policy.initial_backoff = 10ms;
        policy.max_backoff = 20ms;
        policy.max_attempts = 5;
    }

    ~DeliveryEngineTest() override {
        engine.reset();
        store.reset();
    }

    void start(std::optional<GruSettings> gru = std::nullopt) {
        RelaisConfig config;
        config.outbox = settings;
        config.gru = std::move(gru);
        auto entry = std::make_unique<ConnectorEntry>();
        entry->kind = "test";
        entry->slug = "urba";
        entry->family = family;
        entry->connector = connector;
        entry->endpoint_index = {{"send", 0}, {"sync", 1}};
        entry->delivery = policy;
        CallbackSpec callbacks;
        callbacks.reference_pointer = "/id";
        entry->callbacks = callbacks;
        entry->has_async = true;
        std::vector<std::unique_ptr<ConnectorEntry>> entries;
        entries.push_back(std::move(entry));
        auto clients = std::make_unique<const auth::ClientRegistry>(config, entries);
        runtime = std::make_shared<const Runtime>(std::move(config),
                                                  std::vector<std::shared_ptr<PluginModule>>{},
                                                  std::move(entries), std::move(clients));
        engine.emplace(*store, [this] { return runtime; });
        engine->start();
    }

    std::string enqueue(Kind kind, std::string payload, std::string connector_name = "urba",
                        std::string endpoint = "send") {
        outbox::NewMessage message;
        message.kind = kind;
        message.connector = std::move(connector_name);
        message.endpoint = std::move(endpoint);
        message.request_id = "req-1";
        message.payload = std::move(payload);
        const auto enqueued = wait_for(store->enqueue(family, std::move(message)));
        if (engine) {
            engine->wake();
        }
        return enqueued.tracking_id;
    }

    std::string push(std::string message, std::string endpoint = "send") {
        return enqueue(Kind::push,
                       delivery::encode(delivery::PushEnvelope{demand, std::move(message)}), "urba",
                       std::move(endpoint));
    }

    outbox::MessageInfo info(const std::string& tracking_id) {
        const auto found = wait_for(store->find(family, tracking_id));
        if (!found) {
            throw std::runtime_error("message not found");
        }
        return *found;
    }

    /// The message once it is no longer pending (or after 10 s).
    outbox::MessageInfo settled(const std::string& tracking_id) {
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        for (;;) {
            auto found = info(tracking_id);
            if (found.state != State::pending || std::chrono::steady_clock::now() > deadline) {
                return found;
            }
            std::this_thread::sleep_for(10ms);
        }
    }

    test::TempDir dir;
    OutboxSettings settings;
    DeliveryPolicy policy;
    std::optional<outbox::Outbox> store;
    std::shared_ptr<ScriptedConnector> connector = std::make_shared<ScriptedConnector>();
    std::shared_ptr<const Runtime> runtime;
    std::optional<delivery::Engine> engine;
};

TEST_F(DeliveryEngineTest, DeliversAPushAndRecordsItsCorrelation) {
    start();
    const std::string id = push("ok");
    const auto done = settled(id);
    EXPECT_EQ(done.state, State::delivered);
    EXPECT_EQ(done.attempts, 1u);
    EXPECT_EQ(done.last_status, 200u);
    EXPECT_FALSE(done.has_payload);
    const auto calls = connector->calls_of(id);
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].message, "ok");
    EXPECT_EQ(calls[0].idempotency_key, id);
    EXPECT_EQ(calls[0].request_id, "req-1");
    EXPECT_EQ(calls[0].attempt, 1u);
    EXPECT_EQ(wait_for(store->find_correlation(family, "urba", "PC-1")), demand);
}

TEST_F(DeliveryEngineTest, IntegerReferenceAndMissingReference) {
    start();
    const std::string number = push("number");
    const std::string noref = push("noref");
    EXPECT_EQ(settled(number).state, State::delivered);
    EXPECT_EQ(settled(noref).state, State::delivered);
    EXPECT_EQ(wait_for(store->find_correlation(family, "urba", "42")), demand);
}

TEST_F(DeliveryEngineTest, RetriesWithTheSameIdempotencyKeyUntilDelivered) {
    start();
    const std::string id = push("flaky");
    const auto done = settled(id);
    EXPECT_EQ(done.state, State::delivered);
    EXPECT_EQ(done.attempts, 3u);
    const auto calls = connector->calls_of(id);
    ASSERT_EQ(calls.size(), 3u);
    for (unsigned i = 0; i < calls.size(); ++i) {
        EXPECT_EQ(calls[i].attempt, i + 1);
        EXPECT_EQ(calls[i].idempotency_key, id);
    }
}

TEST_F(DeliveryEngineTest, RejectedPushIsDeadAfterOneAttempt) {
    start();
    const std::string id = push("bad");
    const auto dead = settled(id);
    EXPECT_EQ(dead.state, State::dead);
    EXPECT_EQ(dead.attempts, 1u);
    EXPECT_EQ(dead.last_status, 400u);
    EXPECT_EQ(dead.error_class, "upstream-error");
    EXPECT_TRUE(dead.has_payload);
    EXPECT_EQ(connector->calls_of(id).size(), 1u);
}

TEST_F(DeliveryEngineTest, GivesUpAfterMaxAttempts) {
    policy.max_attempts = 3;
    start();
    const std::string id = push("down");
    const auto dead = settled(id);
    EXPECT_EQ(dead.state, State::dead);
    EXPECT_EQ(dead.attempts, 3u);
    EXPECT_EQ(dead.error_class, "max-attempts");
    EXPECT_EQ(dead.last_status, 503u);
}

TEST_F(DeliveryEngineTest, UnreadableMessageIsDead) {
    start();
    const std::string id = enqueue(Kind::push, "not an envelope");
    const auto dead = settled(id);
    EXPECT_EQ(dead.state, State::dead);
    EXPECT_EQ(dead.error_class, "internal-error");
    EXPECT_EQ(connector->call_count(), 0u);
}

TEST_F(DeliveryEngineTest, EndpointNoLongerAsyncIsRetriedWithinBounds) {
    policy.max_attempts = 2;
    start();
    const std::string id = push("ok", "sync");
    const auto dead = settled(id);
    // Retried like any failure, within the policy's bounds.
    EXPECT_EQ(dead.state, State::dead);
    EXPECT_EQ(dead.attempts, 2u);
    EXPECT_EQ(dead.error_class, "max-attempts");
    EXPECT_NE(dead.reason.find("endpoint no longer configured"), std::string::npos);
    EXPECT_EQ(connector->call_count(), 0u);
}

TEST_F(DeliveryEngineTest, MessagesOfAnUnknownConnectorWait) {
    start();
    const std::string id =
        enqueue(Kind::push, delivery::encode(delivery::PushEnvelope{demand, "ok"}), "gone", "send");
    std::this_thread::sleep_for(200ms);
    const auto waiting = info(id);
    EXPECT_EQ(waiting.state, State::pending);
    EXPECT_EQ(waiting.attempts, 0u);
}

TEST_F(DeliveryEngineTest, ConcurrencyPerConnectorIsBounded) {
    policy.concurrency = 2;
    start();
    std::vector<std::string> ids;
    for (int i = 0; i < 6; ++i) {
        ids.push_back(push("slow"));
    }
    for (const auto& id : ids) {
        EXPECT_EQ(settled(id).state, State::delivered);
    }
    EXPECT_EQ(connector->most_running.load(), 2);
    EXPECT_EQ(connector->call_count(), 6u);
}

TEST_F(DeliveryEngineTest, StopAbortsAttemptsAndLeavesThemPending) {
    start();
    const std::string id = push("hang");
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (connector->calls_of(id).empty() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    ASSERT_EQ(connector->calls_of(id).size(), 1u);
    const auto stopping = std::chrono::steady_clock::now();
    engine->stop();
    EXPECT_LT(std::chrono::steady_clock::now() - stopping, 5s);
    EXPECT_EQ(connector->running.load(), 0);
    const auto pending = info(id);
    EXPECT_EQ(pending.state, State::pending);
    EXPECT_EQ(pending.attempts, 0u);
    EXPECT_TRUE(pending.has_payload);
    engine->stop();
}

TEST(DeliveryEngine, StopBeforeStartAndTwice) {
    test::TempDir dir;
    outbox::Outbox store(dir.path() / "outbox", outbox::Key{}, OutboxSettings{});
    delivery::Engine engine(store, [] { return std::shared_ptr<const Runtime>(); });
    engine.wake();
    engine.stop();
    engine.start();
    engine.wake();
    engine.stop();
    engine.stop();
}

/// The GRU core is the fake upstream: its /echo/ answers 200, /status/404 404.
class DeliveryTriggerTest : public DeliveryEngineTest {
protected:
    GruSettings gru() const {
        GruSettings core;
        core.url = fake.base_url + "/";
        core.orig = "relais.example.org";
        core.key = "gru-shared-key";
        core.algorithm = "sha256";
        return core;
    }

    std::string trigger(const std::string& path, bool terminal) {
        delivery::TriggerEnvelope envelope;
        envelope.url = fake.base_url + path;
        envelope.body = R"({"reference":"PC-1","status":"accepted"})";
        envelope.reference = "PC-1";
        envelope.terminal = terminal;
        return enqueue(Kind::trigger, delivery::encode(envelope), "urba", "status");
    }

    rapidjson::Document last_request() const {
        using namespace upstream::testing;
        const auto recorded = json_of(fetch(get(fake.url("/_control/requests"))));
        rapidjson::Document last;
        if (recorded.IsArray() && !recorded.Empty()) {
            last.CopyFrom(recorded[recorded.Size() - 1], last.GetAllocator());
        }
        return last;
    }

    upstream::testing::FakeUpstreamProcess fake;
};

TEST_F(DeliveryTriggerTest, PostsASignedTriggerAndDropsTheCorrelation) {
    wait_for(store->put_correlation(family, "urba", "PC-1", fake.base_url + "/echo/form/1/"));
    start(gru());
    const std::string id = trigger("/echo/form/1/jump/trigger/accepte/", true);
    const auto done = settled(id);
    EXPECT_EQ(done.state, State::delivered);
    EXPECT_EQ(done.last_status, 200u);
    EXPECT_FALSE(wait_for(store->find_correlation(family, "urba", "PC-1")));

    const auto seen = last_request();
    using upstream::testing::string_at;
    EXPECT_EQ(string_at(seen, "/method"), "POST");
    EXPECT_EQ(string_at(seen, "/path"), "/echo/form/1/jump/trigger/accepte/");
    EXPECT_EQ(string_at(seen, "/body"), R"({"reference":"PC-1","status":"accepted"})");
    EXPECT_EQ(string_at(seen, "/headers/idempotency-key"), id);
    EXPECT_EQ(string_at(seen, "/headers/content-type"), "application/json");
    EXPECT_EQ(string_at(seen, "/headers/accept"), "application/json");
    EXPECT_EQ(string_at(seen, "/headers/x-request-id"), "req-1");
    // w.c.s. checks the signature as relais checks its callers'.
    const std::string raw_query = string_at(seen, "/raw_query");
    ASSERT_TRUE(raw_query.starts_with("orig=relais.example.org&algo=sha256&timestamp="))
        << raw_query;
    const auto parsed = auth::parse_signed_query(raw_query);
    ASSERT_TRUE(std::holds_alternative<auth::SignedQuery>(parsed));
    const auto& query = std::get<auth::SignedQuery>(parsed);
    EXPECT_EQ(query.orig, "relais.example.org");
    EXPECT_FALSE(auth::verify_signature(query, "gru-shared-key", std::chrono::system_clock::now()));
    EXPECT_TRUE(auth::verify_signature(query, "another-key", std::chrono::system_clock::now()));
}

TEST_F(DeliveryTriggerTest, NonTerminalTriggerKeepsTheCorrelation) {
    wait_for(store->put_correlation(family, "urba", "PC-1", fake.base_url + "/echo/form/1/"));
    start(gru());
    const std::string id = trigger("/echo/form/1/jump/trigger/recu/", false);
    EXPECT_EQ(settled(id).state, State::delivered);
    EXPECT_TRUE(wait_for(store->find_correlation(family, "urba", "PC-1")));
}

TEST_F(DeliveryTriggerTest, UnavailableTriggerIsDead) {
    start(gru());
    const std::string id = trigger("/status/404", true);
    const auto dead = settled(id);
    EXPECT_EQ(dead.state, State::dead);
    EXPECT_EQ(dead.attempts, 1u);
    EXPECT_EQ(dead.last_status, 404u);
    EXPECT_EQ(dead.error_class, "trigger-unavailable");
}

TEST_F(DeliveryTriggerTest, NoGruConfiguredRetries) {
    policy.max_attempts = 2;
    start();
    const std::string id = trigger("/echo/form/1/jump/trigger/recu/", false);
    const auto dead = settled(id);
    EXPECT_EQ(dead.error_class, "max-attempts");
    EXPECT_NE(dead.reason.find("no gru configured"), std::string::npos);
    EXPECT_FALSE(last_request().IsObject());
}

TEST_F(DeliveryTriggerTest, NeverSignsForAnotherHost) {
    GruSettings elsewhere = gru();
    elsewhere.url = "https://demarches.example.org/";
    start(elsewhere);
    const std::string id = trigger("/echo/form/1/jump/trigger/recu/", false);
    const auto dead = settled(id);
    EXPECT_EQ(dead.state, State::dead);
    EXPECT_EQ(dead.error_class, "invalid-parameter");
    EXPECT_FALSE(last_request().IsObject());
}

}  // namespace
}  // namespace relais
