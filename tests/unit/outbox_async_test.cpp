#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <set>
#include <thread>

#include "outbox/outbox.hpp"
#include "outbox_test_support.hpp"

namespace relais::outbox {
namespace {

namespace asio = boost::asio;
using testing::random_key;
using testing::TempDir;

NewMessage demand(std::string payload) {
    return {Kind::push, "civil", "birth-certificate", "req", std::move(payload), {}};
}

/// Runs `body` as a coroutine on `io` until it and everything it started
/// are done; rethrows what it threw.
template <typename Body>
void run(asio::io_context& io, Body body) {
    std::exception_ptr error;
    asio::co_spawn(io, std::move(body), [&](std::exception_ptr e) { error = e; });
    io.run();
    io.restart();
    if (error) {
        std::rethrow_exception(error);
    }
}

class OutboxAsync : public ::testing::Test {
protected:
    TempDir temp;
    Key key = random_key();
    asio::io_context io;
};

TEST_F(OutboxAsync, ConcurrentEnqueuesShareOneCommit) {
    auto outbox = std::make_unique<Outbox>(temp.path() / "outbox", key, Settings{});
    run(io,
        [&]() -> asio::awaitable<void> { co_await outbox->enqueue("etat-civil", demand("x")); });
    const std::size_t before = outbox->commits();

    // Another process (an operator's command) holds the write lock while the
    // coroutines queue their jobs: the outbox thread waits on it with the
    // first batch, and everything queued meanwhile must share one commit.
    sqlite3* blocker = nullptr;
    ASSERT_EQ(sqlite3_open(database_file(temp.path() / "outbox", "etat-civil").c_str(), &blocker),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(blocker, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

    constexpr int n = 200;
    std::vector<std::string> ids;
    const auto io_thread = std::this_thread::get_id();
    bool resumed_elsewhere = false;
    for (int i = 0; i < n; ++i) {
        asio::co_spawn(
            io,
            [&, i]() -> asio::awaitable<void> {
                const auto enqueued =
                    co_await outbox->enqueue("etat-civil", demand("payload " + std::to_string(i)));
                resumed_elsewhere = resumed_elsewhere || std::this_thread::get_id() != io_thread;
                ids.push_back(enqueued.tracking_id);
            },
            asio::detached);
    }
    io.poll();
    EXPECT_TRUE(ids.empty()) << "nothing is durable while the database is locked";
    ASSERT_EQ(sqlite3_exec(blocker, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(blocker);
    io.run();
    io.restart();

    ASSERT_EQ(ids.size(), static_cast<std::size_t>(n));
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
    EXPECT_FALSE(resumed_elsewhere);
    EXPECT_LE(outbox->commits() - before, 2u) << "one commit per waiting batch, not per message";

    // Awaited one after the other, each enqueue is its own commit.
    const std::size_t sequential_before = outbox->commits();
    run(io, [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 5; ++i) {
            co_await outbox->enqueue("etat-civil", demand("sequential"));
        }
    });
    EXPECT_EQ(outbox->commits() - sequential_before, 5u);

    std::size_t due = 0;
    run(io, [&]() -> asio::awaitable<void> {
        due = (co_await outbox->due("etat-civil", "civil", Kind::push, 1000, {})).size();
    });
    EXPECT_EQ(due, static_cast<std::size_t>(n + 1 + 5));
}

TEST_F(OutboxAsync, FailedJobThrowsInItsCoroutineAndTheThreadGoesOn) {
    Outbox outbox(temp.path() / "outbox", key, Settings{});
    // A directory where the new family's database should be: it cannot open.
    std::filesystem::create_directory(database_file(temp.path() / "outbox", "sante"));
    bool threw = false;
    run(io, [&]() -> asio::awaitable<void> {
        try {
            co_await outbox.enqueue("sante", demand("x"));
        } catch (const std::runtime_error& e) {
            threw = std::string(e.what()).find("sante.sqlite") != std::string::npos;
        }
    });
    EXPECT_TRUE(threw);

    Enqueued enqueued;
    run(io, [&]() -> asio::awaitable<void> {
        enqueued = co_await outbox.enqueue("etat-civil", demand("x"));
    });
    EXPECT_TRUE(enqueued.created);
    EXPECT_EQ(outbox.families(), (std::vector<std::string>{"etat-civil"}));

    EXPECT_THROW(run(io,
                     [&]() -> asio::awaitable<void> {
                         co_await outbox.enqueue("../etat-civil", demand("x"));
                     }),
                 std::invalid_argument);
}

TEST_F(OutboxAsync, DeliveryRoundTripThenCheckpointAndSweep) {
    Settings settings;
    settings.retention = std::chrono::milliseconds(0);
    Outbox outbox(temp.path() / "outbox", key, settings);
    const auto wal = temp.path() / "outbox" / "etat-civil.sqlite-wal";
    // Checked once the coroutine is done: gtest's assertions do not mix with
    // co_await.
    std::size_t due = 0;
    std::vector<std::string> connectors;
    std::optional<std::string> correlation;
    std::optional<std::string> removed_correlation;
    std::uintmax_t wal_before_checkpoint = 0;
    std::uintmax_t wal_after_checkpoint = 0;
    std::optional<MessageInfo> delivered;
    SweepCounts counts;
    std::optional<MessageInfo> purged;
    run(io, [&]() -> asio::awaitable<void> {
        const auto enqueued = co_await outbox.enqueue("etat-civil", demand("x"));
        due = (co_await outbox.due("etat-civil", "civil", Kind::push, 10, {})).size();
        connectors = co_await outbox.pending_connectors("etat-civil", Kind::push);
        co_await outbox.put_correlation("etat-civil", "civil", "PC-1", "https://gru/1/");
        correlation = co_await outbox.find_correlation("etat-civil", "civil", "PC-1");
        AttemptRecord taken{AttemptRecord::Verdict::delivered, {}, 200, {}, {}};
        co_await outbox.record("etat-civil", enqueued.tracking_id, std::move(taken));
        co_await outbox.remove_correlation("etat-civil", "civil", "PC-1", "https://gru/1/");
        wal_before_checkpoint = std::filesystem::file_size(wal);
        co_await outbox.checkpoint_if_deleted();
        wal_after_checkpoint = std::filesystem::file_size(wal);
        delivered = co_await outbox.find("etat-civil", enqueued.tracking_id);
        removed_correlation = co_await outbox.find_correlation("etat-civil", "civil", "PC-1");
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        counts = co_await outbox.sweep();
        purged = co_await outbox.find("etat-civil", enqueued.tracking_id);
    });
    EXPECT_EQ(due, 1u);
    EXPECT_EQ(connectors, (std::vector<std::string>{"civil"}));
    EXPECT_EQ(correlation, "https://gru/1/");
    EXPECT_GT(wal_before_checkpoint, 0u);
    EXPECT_EQ(wal_after_checkpoint, 0u);
    EXPECT_EQ(delivered.value_or(MessageInfo{}).state, State::delivered);
    EXPECT_EQ(removed_correlation, std::nullopt);
    EXPECT_EQ(counts.messages_purged, 1u);
    EXPECT_EQ(purged, std::nullopt);
}

TEST_F(OutboxAsync, ReadsOfAnUnknownFamilyCreateNothing) {
    Outbox outbox(temp.path() / "outbox", key, Settings{});
    bool found_anything = true;
    run(io, [&]() -> asio::awaitable<void> {
        const auto message = co_await outbox.find("sante", "00000000000000000000000000000000");
        const auto due = co_await outbox.due("sante", "civil", Kind::push, 10, {});
        const auto correlation = co_await outbox.find_correlation("sante", "civil", "PC-1");
        co_await outbox.remove_correlation("sante", "civil", "PC-1", "https://gru/1/");
        found_anything = message || !due.empty() || correlation;
    });
    EXPECT_FALSE(found_anything);
    EXPECT_TRUE(outbox.families().empty());
    EXPECT_TRUE(families_in(temp.path() / "outbox").empty());
}

TEST_F(OutboxAsync, DirectoryIsPrivateAndDatabasesAreReopened) {
    const auto dir = temp.path() / "data" / "outbox";
    {
        Outbox outbox(dir, key, Settings{});
        run(io, [&]() -> asio::awaitable<void> {
            co_await outbox.enqueue("etat-civil", demand("x"));
            co_await outbox.enqueue("sante", demand("y"));
        });
    }
    EXPECT_EQ(std::filesystem::status(dir).permissions(), std::filesystem::perms::owner_all);
    Outbox reopened(dir, key, Settings{});
    EXPECT_EQ(reopened.families(), (std::vector<std::string>{"etat-civil", "sante"}));
}

TEST_F(OutboxAsync, DocumentsLeftByAStopAreDroppedAtTheNextStart) {
    const std::string document = FamilyStore::new_document_id();
    std::string held;
    {
        Outbox outbox(temp.path() / "outbox", key, Settings{});
        run(io, [&]() -> asio::awaitable<void> {
            // An upload a stop interrupted, and a document a message holds.
            co_await outbox.store_piece("etat-civil", document, 0, "orphan");
            held = FamilyStore::new_document_id();
            co_await outbox.store_piece("etat-civil", held, 0, "held");
            NewMessage message = demand("with its document");
            message.document = held;
            message.document_bytes = 4;
            co_await outbox.enqueue("etat-civil", std::move(message));
        });
    }
    Outbox reopened(temp.path() / "outbox", key, Settings{});
    run(io, [&]() -> asio::awaitable<void> {
        EXPECT_EQ(co_await reopened.read_piece("etat-civil", document, 0), std::nullopt);
        EXPECT_EQ(co_await reopened.read_piece("etat-civil", held, 0), "held");
    });
}

TEST_F(OutboxAsync, DestructorRunsWhatIsQueued) {
    auto outbox = std::make_unique<Outbox>(temp.path() / "outbox", key, Settings{});
    std::string tracking_id;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            tracking_id = (co_await outbox->enqueue("etat-civil", demand("x"))).tracking_id;
        },
        asio::detached);
    io.poll();
    outbox.reset();
    io.run();
    ASSERT_EQ(tracking_id.size(), 32u);
    FamilyStore store(database_file(temp.path() / "outbox", "etat-civil"), "etat-civil", &key);
    EXPECT_TRUE(store.find(tracking_id));
}

}  // namespace
}  // namespace relais::outbox
