#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "outbox/outbox.hpp"
#include "outbox_test_support.hpp"

namespace relais::outbox {
namespace {

using namespace std::chrono_literals;
using testing::any_file_contains;
using testing::random_key;
using testing::TempDir;
using Verdict = AttemptRecord::Verdict;

const Clock::time_point t0 = Clock::time_point(std::chrono::milliseconds(1'800'000'000'000));

/// Direct SQL on a family database, for what the store never shows: the
/// sealed bytes, or a row edited behind its back.
class RawDatabase {
public:
    explicit RawDatabase(const std::filesystem::path& file) {
        EXPECT_EQ(sqlite3_open(file.c_str(), &db_), SQLITE_OK);
        sqlite3_busy_timeout(db_, 5000);
    }
    ~RawDatabase() { sqlite3_close(db_); }
    RawDatabase(const RawDatabase&) = delete;
    RawDatabase& operator=(const RawDatabase&) = delete;

    void execute(const std::string& sql) {
        EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
            << sqlite3_errmsg(db_);
    }
    /// The first column of the first row, as bytes.
    std::string value(const std::string& sql) {
        sqlite3_stmt* statement = nullptr;
        EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr), SQLITE_OK);
        std::string out;
        if (sqlite3_step(statement) == SQLITE_ROW) {
            const auto* bytes = static_cast<const char*>(sqlite3_column_blob(statement, 0));
            out.assign(bytes == nullptr ? "" : bytes,
                       static_cast<std::size_t>(sqlite3_column_bytes(statement, 0)));
        }
        sqlite3_finalize(statement);
        return out;
    }

private:
    sqlite3* db_ = nullptr;
};

class OutboxStore : public ::testing::Test {
protected:
    TempDir temp;
    Key key = random_key();
    std::filesystem::path file = database_file(temp.path(), "etat-civil");
    FamilyStore store{file, "etat-civil", &key};
    Settings settings;

    std::string push(std::string connector, std::string payload, Clock::time_point at,
                     Kind kind = Kind::push, std::string idempotency = {}) {
        const auto enqueued = store.enqueue({kind, std::move(connector), "birth-certificate",
                                             "req-1", std::move(payload), std::move(idempotency)},
                                            at);
        EXPECT_TRUE(enqueued.created);
        return enqueued.tracking_id;
    }

    std::vector<std::string> due_ids(std::string_view connector, Kind kind, Clock::time_point at,
                                     std::size_t limit = 10,
                                     const std::vector<std::string>& skip = {}) {
        std::vector<std::string> ids;
        for (const auto& message :
             store.due(connector, kind, at, limit, skip, settings.dead_letter_retention)) {
            ids.push_back(message.info.tracking_id);
        }
        return ids;
    }

    MessageInfo info(const std::string& tracking_id) {
        const auto found = store.find(tracking_id);
        EXPECT_TRUE(found.has_value());
        return found.value_or(MessageInfo{});
    }
};

TEST_F(OutboxStore, EnqueuedMessageIsFoundWithItsMetadata) {
    const std::string id = push("civil", "{}", t0);
    EXPECT_EQ(id.size(), 32u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
    const MessageInfo m = info(id);
    EXPECT_EQ(m.tracking_id, id);
    EXPECT_EQ(m.family, "etat-civil");
    EXPECT_EQ(m.kind, Kind::push);
    EXPECT_EQ(m.connector, "civil");
    EXPECT_EQ(m.endpoint, "birth-certificate");
    EXPECT_EQ(m.request_id, "req-1");
    EXPECT_EQ(m.state, State::pending);
    EXPECT_EQ(m.created, t0);
    EXPECT_EQ(m.updated, t0);
    EXPECT_EQ(m.next_attempt, t0);
    EXPECT_EQ(m.attempts, 0u);
    EXPECT_TRUE(m.has_payload);
    EXPECT_FALSE(m.payload_erase_at);
    EXPECT_EQ(store.find("00000000000000000000000000000000"), std::nullopt);
}

TEST_F(OutboxStore, SameIdempotencyOnTheSameConnectorGivesTheFirstMessage) {
    const std::string first = push("civil", "one", t0, Kind::push, "digest-1");
    const auto again = store.enqueue(
        {Kind::push, "civil", "birth-certificate", "req-2", "two", "digest-1"}, t0 + 1s);
    EXPECT_EQ(again.tracking_id, first);
    EXPECT_FALSE(again.created);
    EXPECT_NE(push("other", "three", t0, Kind::push, "digest-1"), first);
    EXPECT_NE(push("civil", "four", t0), push("civil", "four", t0));
    const auto due =
        store.due("civil", Kind::push, t0 + 1s, 10, {}, settings.dead_letter_retention);
    ASSERT_EQ(due.size(), 3u);
    EXPECT_EQ(due[0].payload, "one");
}

TEST_F(OutboxStore, DueTakesOldestFirstWithinConnectorKindLimitAndSkip) {
    const std::string a = push("civil", "a", t0);
    const std::string b = push("civil", "b", t0 + 1s);
    const std::string c = push("civil", "c", t0 + 2s);
    const std::string trigger = push("civil", "t", t0, Kind::trigger);
    push("other", "o", t0);
    EXPECT_EQ(due_ids("civil", Kind::push, t0 + 2s), (std::vector{a, b, c}));
    EXPECT_EQ(due_ids("civil", Kind::push, t0 + 1s), (std::vector{a, b}));
    EXPECT_EQ(due_ids("civil", Kind::push, t0 + 2s, 2), (std::vector{a, b}));
    EXPECT_EQ(due_ids("civil", Kind::push, t0 + 2s, 2, {a}), (std::vector{b, c}));
    EXPECT_EQ(due_ids("civil", Kind::push, t0 + 2s, 2, {b, a}), (std::vector{c}));
    EXPECT_EQ(due_ids("civil", Kind::trigger, t0 + 2s), (std::vector{trigger}));
    EXPECT_TRUE(due_ids("civil", Kind::push, t0 - 1ms).empty());
    const auto due = store.due("civil", Kind::push, t0, 1, {}, settings.dead_letter_retention);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].payload, "a");
    EXPECT_EQ(due[0].info.tracking_id, a);
    EXPECT_EQ(store.pending_connectors(Kind::push), (std::vector<std::string>{"civil", "other"}));
    EXPECT_EQ(store.pending_connectors(Kind::trigger), (std::vector<std::string>{"civil"}));
}

TEST_F(OutboxStore, RetryVerdictCountsTheAttemptAndWaits) {
    const std::string id = push("civil", "a", t0);
    store.record(id, {Verdict::retry, t0 + 10s, 503, "upstream-error", "upstream answered 503"},
                 t0 + 1s, settings.dead_letter_retention);
    EXPECT_TRUE(due_ids("civil", Kind::push, t0 + 9s).empty());
    EXPECT_EQ(due_ids("civil", Kind::push, t0 + 10s), (std::vector{id}));
    const MessageInfo m = info(id);
    EXPECT_EQ(m.state, State::pending);
    EXPECT_EQ(m.attempts, 1u);
    EXPECT_EQ(m.last_status, 503u);
    EXPECT_EQ(m.error_class, "upstream-error");
    EXPECT_EQ(m.reason, "upstream answered 503");
    EXPECT_EQ(m.updated, t0 + 1s);
    EXPECT_EQ(m.next_attempt, t0 + 10s);
    EXPECT_TRUE(m.has_payload);
}

TEST_F(OutboxStore, DeliveredPayloadLeavesEveryFile) {
    const std::string marker = "CANARY-7f3a9c-delivered";
    const std::string id = push("civil", R"({"name":")" + marker + R"("})", t0);
    store.checkpoint();
    std::string sealed;
    {
        RawDatabase raw(file);
        sealed = raw.value("SELECT payload FROM messages WHERE tracking_id = '" + id + "'");
    }
    ASSERT_GT(sealed.size(), 28u);
    EXPECT_EQ(sealed.find(marker), std::string::npos);
    EXPECT_FALSE(any_file_contains(temp.path(), marker));
    EXPECT_TRUE(any_file_contains(temp.path(), sealed));

    store.record(id, {Verdict::delivered, {}, 200, {}, {}}, t0 + 1s,
                 settings.dead_letter_retention);
    store.checkpoint();
    EXPECT_FALSE(any_file_contains(temp.path(), sealed));
    EXPECT_EQ(std::filesystem::file_size(temp.path() / "etat-civil.sqlite-wal"), 0u);
    const MessageInfo m = info(id);
    EXPECT_EQ(m.state, State::delivered);
    EXPECT_EQ(m.attempts, 1u);
    EXPECT_EQ(m.last_status, 200u);
    EXPECT_FALSE(m.has_payload);
    EXPECT_TRUE(due_ids("civil", Kind::push, t0 + 1h).empty());
    // A verdict on a finished message changes nothing.
    store.record(id, {Verdict::dead, {}, 400, "upstream-error", {}}, t0 + 2s, 1h);
    EXPECT_EQ(info(id).state, State::delivered);
}

TEST_F(OutboxStore, SweepsGiveTheSpaceOfDeliveredMessagesBack) {
    EXPECT_EQ(RawDatabase(file).value("PRAGMA auto_vacuum"), "2");
    std::vector<std::string> ids;
    for (int i = 0; i < 100; ++i) {
        ids.push_back(push("civil", std::string(64 * 1024, 'x'), t0));
    }
    store.checkpoint();
    const auto full = std::filesystem::file_size(file);
    EXPECT_GT(full, 6'000'000u);
    for (const auto& id : ids) {
        store.record(id, {Verdict::delivered, {}, 200, {}, {}}, t0 + 1s,
                     settings.dead_letter_retention);
    }
    store.sweep(t0 + 1s, settings);
    store.checkpoint();
    EXPECT_LT(std::filesystem::file_size(file), 200'000u) << "of " << full;
}

TEST_F(OutboxStore, ADatabaseMadeWithoutAutoVacuumIsRebuiltOnce) {
    const std::string id = push("civil", "kept", t0);
    {
        RawDatabase raw(file);
        raw.execute("PRAGMA auto_vacuum = NONE; VACUUM;");
        EXPECT_EQ(raw.value("PRAGMA auto_vacuum"), "0");
    }
    FamilyStore reopened(file, "etat-civil", &key);
    EXPECT_EQ(RawDatabase(file).value("PRAGMA auto_vacuum"), "2");
    const auto due = reopened.due("civil", Kind::push, t0, 10, {}, 1h);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].payload, "kept");
}

TEST_F(OutboxStore, DeadLetterKeepsItsPayloadUntilItsRetentionEnds) {
    const std::string id = push("civil", "a", t0);
    settings.dead_letter_retention = 1h;
    store.record(id, {Verdict::dead, {}, 400, "upstream-error", "upstream answered 400"}, t0,
                 settings.dead_letter_retention);
    MessageInfo m = info(id);
    EXPECT_EQ(m.state, State::dead);
    EXPECT_TRUE(m.has_payload);
    EXPECT_EQ(m.payload_erase_at, t0 + 1h);
    EXPECT_TRUE(due_ids("civil", Kind::push, t0 + 2h).empty());

    EXPECT_EQ(store.sweep(t0 + 1h - 1ms, settings).payloads_erased, 0u);
    EXPECT_TRUE(info(id).has_payload);
    const SweepCounts counts = store.sweep(t0 + 1h, settings);
    EXPECT_EQ(counts.payloads_erased, 1u);
    EXPECT_EQ(counts.messages_purged, 0u);
    m = info(id);
    EXPECT_FALSE(m.has_payload);
    EXPECT_FALSE(m.payload_erase_at);
    EXPECT_EQ(m.state, State::dead);
    EXPECT_FALSE(store.retry(id, t0 + 2h));

    EXPECT_EQ(store.sweep(t0 + settings.retention, settings).messages_purged, 0u);
    EXPECT_EQ(store.sweep(t0 + settings.retention + 1ms, settings).messages_purged, 1u);
    EXPECT_EQ(store.find(id), std::nullopt);
}

TEST_F(OutboxStore, RetentionPurgesFinishedMessagesOnly) {
    const std::string delivered = push("civil", "a", t0);
    const std::string pending = push("civil", "b", t0);
    const std::string dead = push("civil", "c", t0);
    store.record(delivered, {Verdict::delivered, {}, 200, {}, {}}, t0, 1h);
    store.record(dead, {Verdict::dead, {}, 400, "upstream-error", {}}, t0, settings.retention * 2);
    const SweepCounts counts = store.sweep(t0 + settings.retention + 1ms, settings);
    EXPECT_EQ(counts.messages_purged, 1u);
    EXPECT_EQ(counts.payloads_erased, 0u);
    EXPECT_EQ(store.find(delivered), std::nullopt);
    EXPECT_TRUE(store.find(pending));
    EXPECT_TRUE(store.find(dead)) << "a dead letter with its payload waits for its erasure";
}

TEST_F(OutboxStore, OperatorRetriesADeadLetterWithItsPayload) {
    const std::string id = push("civil", "a", t0);
    EXPECT_FALSE(store.retry(id, t0)) << "not a dead letter";
    store.record(id, {Verdict::retry, t0 + 1s, 503, "upstream-error", "x"}, t0, 1h);
    store.record(id, {Verdict::dead, {}, 400, "upstream-error", "upstream answered 400"}, t0 + 1s,
                 1h);
    EXPECT_TRUE(store.retry(id, t0 + 10s));
    const MessageInfo m = info(id);
    EXPECT_EQ(m.state, State::pending);
    EXPECT_EQ(m.attempts, 0u);
    EXPECT_EQ(m.last_status, 0u);
    EXPECT_EQ(m.error_class, "");
    EXPECT_EQ(m.reason, "");
    EXPECT_EQ(m.next_attempt, t0 + 10s);
    // Its age (max_age, retention) counts from the retry.
    EXPECT_EQ(m.created, t0 + 10s);
    EXPECT_FALSE(m.payload_erase_at);
    const auto due =
        store.due("civil", Kind::push, t0 + 10s, 10, {}, settings.dead_letter_retention);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].payload, "a");
    EXPECT_FALSE(store.retry("00000000000000000000000000000000", t0));
}

TEST_F(OutboxStore, DropDeletesAMessage) {
    const std::string id = push("civil", "a", t0);
    EXPECT_TRUE(store.drop(id));
    EXPECT_EQ(store.find(id), std::nullopt);
    EXPECT_FALSE(store.drop(id));
    EXPECT_TRUE(due_ids("civil", Kind::push, t0).empty());
}

TEST_F(OutboxStore, PayloadMovedToAnotherConnectorNoLongerOpens) {
    const std::string id = push("civil", "a", t0);
    {
        RawDatabase raw(file);
        raw.execute("UPDATE messages SET connector = 'other' WHERE tracking_id = '" + id + "'");
    }
    EXPECT_TRUE(store.due("other", Kind::push, t0, 10, {}, settings.dead_letter_retention).empty());
    const MessageInfo m = info(id);
    EXPECT_EQ(m.state, State::dead);
    EXPECT_EQ(m.reason, "payload cannot be decrypted");
    // Kept sealed for the dead-letter period: with the right key (or row)
    // back, an operator can still retry it.
    EXPECT_TRUE(m.has_payload);
    EXPECT_EQ(m.payload_erase_at, t0 + settings.dead_letter_retention);
}

TEST_F(OutboxStore, FindsAMessageByItsIdempotencyDigest) {
    const std::string id = push("civil", "a", t0, Kind::trigger, "digest-1");
    EXPECT_EQ(store.find_idempotent("civil", "digest-1"), id);
    EXPECT_EQ(store.find_idempotent("other", "digest-1"), std::nullopt);
    EXPECT_EQ(store.find_idempotent("civil", "digest-2"), std::nullopt);
}

TEST_F(OutboxStore, NoMessageStaysPendingBeyondRetention) {
    // E.g. the messages of a connector removed from the configuration: no
    // attempt will ever settle them.
    const std::string id = push("removed", "a", t0);
    EXPECT_EQ(store.sweep(t0 + settings.retention, settings).messages_expired, 0u);
    const SweepCounts counts = store.sweep(t0 + settings.retention + 1ms, settings);
    EXPECT_EQ(counts.messages_expired, 1u);
    const MessageInfo m = info(id);
    EXPECT_EQ(m.state, State::dead);
    EXPECT_EQ(m.error_class, "max-age");
    EXPECT_TRUE(m.has_payload);
    EXPECT_EQ(m.payload_erase_at, t0 + settings.retention + 1ms + settings.dead_letter_retention);
}

TEST_F(OutboxStore, CorrelationsArePutFoundReplacedRemovedAndPurged) {
    store.put_correlation("civil", "PC-1", "https://gru.example.org/demande/1/", t0);
    store.put_correlation("other", "PC-1", "https://gru.example.org/demande/2/", t0);
    EXPECT_EQ(store.find_correlation("civil", "PC-1"), "https://gru.example.org/demande/1/");
    EXPECT_EQ(store.find_correlation("other", "PC-1"), "https://gru.example.org/demande/2/");
    EXPECT_EQ(store.find_correlation("civil", "PC-2"), std::nullopt);
    store.put_correlation("civil", "PC-1", "https://gru.example.org/demande/3/", t0 + 1s);
    EXPECT_EQ(store.find_correlation("civil", "PC-1"), "https://gru.example.org/demande/3/");
    // The reference went to another demand: the first one's terminal status
    // leaves the new correlation alone.
    store.remove_correlation("civil", "PC-1", "https://gru.example.org/demande/1/");
    EXPECT_EQ(store.find_correlation("civil", "PC-1"), "https://gru.example.org/demande/3/");
    store.remove_correlation("other", "PC-1", "https://gru.example.org/demande/2/");
    EXPECT_EQ(store.find_correlation("other", "PC-1"), std::nullopt);

    EXPECT_EQ(store.sweep(t0 + settings.correlation_retention, settings).correlations_purged, 0u);
    EXPECT_EQ(
        store.sweep(t0 + 1s + settings.correlation_retention + 1ms, settings).correlations_purged,
        1u);
    EXPECT_EQ(store.find_correlation("civil", "PC-1"), std::nullopt);
}

TEST_F(OutboxStore, ClosingReplacesTheCorrelationByAMessage) {
    store.put_correlation("courrier", "GEC-1", "https://gru.example.org/courrier/1/", t0);
    store.put_correlation("other", "GEC-2", "https://gru.example.org/courrier/2/", t0);
    const NewMessage notify{Kind::push, "courrier", "closed", "req-2", "notify GEC-1", "close-1"};

    EXPECT_EQ(store.enqueue_closing(notify, "GEC-2", t0), std::nullopt);
    EXPECT_EQ(store.find_correlation("other", "GEC-2"), "https://gru.example.org/courrier/2/");
    EXPECT_TRUE(due_ids("courrier", Kind::push, t0).empty());

    const auto closed = store.enqueue_closing(notify, "GEC-1", t0);
    ASSERT_TRUE(closed);
    EXPECT_TRUE(closed->created);
    EXPECT_EQ(store.find_correlation("courrier", "GEC-1"), std::nullopt);
    EXPECT_EQ(due_ids("courrier", Kind::push, t0), std::vector<std::string>{closed->tracking_id});

    // The same closing again: the first message, though the correlation is gone.
    const auto again = store.enqueue_closing(notify, "GEC-1", t0 + 1s);
    ASSERT_TRUE(again);
    EXPECT_FALSE(again->created);
    EXPECT_EQ(again->tracking_id, closed->tracking_id);
    NewMessage other = notify;
    other.idempotency = "close-3";
    EXPECT_EQ(store.enqueue_closing(other, "GEC-1", t0 + 1s), std::nullopt);
}

TEST_F(OutboxStore, ListFiltersNewestFirst) {
    const std::string a = push("civil", "a", t0);
    const std::string b = push("other", "b", t0 + 1s);
    const std::string c = push("civil", "c", t0 + 2s);
    store.record(a, {Verdict::dead, {}, 400, "upstream-error", {}}, t0 + 3s, 1h);
    auto ids = [](const std::vector<MessageInfo>& messages) {
        std::vector<std::string> out;
        for (const auto& m : messages) {
            out.push_back(m.tracking_id);
        }
        return out;
    };
    EXPECT_EQ(ids(store.list({})), (std::vector{c, b, a}));
    EXPECT_EQ(ids(store.list({State::dead, "", 100})), (std::vector{a}));
    EXPECT_EQ(ids(store.list({std::nullopt, "civil", 100})), (std::vector{c, a}));
    EXPECT_EQ(ids(store.list({State::pending, "civil", 100})), (std::vector{c}));
    EXPECT_EQ(ids(store.list({std::nullopt, "", 2})), (std::vector{c, b}));
}

TEST_F(OutboxStore, FamiliesAreSeparateFiles) {
    const std::string id = push("civil", "a", t0);
    store.put_correlation("civil", "PC-1", "https://gru.example.org/demande/1/", t0);
    FamilyStore other(database_file(temp.path(), "sante"), "sante", &key);
    EXPECT_EQ(other.find(id), std::nullopt);
    EXPECT_EQ(other.find_correlation("civil", "PC-1"), std::nullopt);
    EXPECT_TRUE(other.due("civil", Kind::push, t0, 10, {}, settings.dead_letter_retention).empty());
    EXPECT_EQ(families_in(temp.path()), (std::vector<std::string>{"etat-civil", "sante"}));
    EXPECT_EQ(database_file(temp.path(), "sante"), temp.path() / "sante.sqlite");
    EXPECT_EQ(directory("/var/lib/relais"), std::filesystem::path("/var/lib/relais/outbox"));
    EXPECT_TRUE(is_family_name("economie-urbanisme"));
    for (const std::string_view bad : {"", "Sante", "../sante", "sante.db", "sante_1"}) {
        EXPECT_FALSE(is_family_name(bad)) << bad;
    }
}

TEST_F(OutboxStore, WithoutTheKeyOnlyMetadataIsReachable) {
    const std::string id = push("civil", "a", t0);
    FamilyStore metadata(file, "etat-civil", nullptr);
    EXPECT_EQ(metadata.find(id).value_or(MessageInfo{}).connector, "civil");
    EXPECT_THROW(metadata.enqueue({Kind::push, "civil", "e", "r", "p", {}}, t0), std::logic_error);
    EXPECT_THROW(metadata.due("civil", Kind::push, t0, 10, {}, settings.dead_letter_retention),
                 std::logic_error);
    EXPECT_TRUE(metadata.drop(id));
    // Nor does it create a database that is not there.
    EXPECT_THROW(FamilyStore(database_file(temp.path(), "sante"), "sante", nullptr),
                 std::runtime_error);
    EXPECT_FALSE(std::filesystem::exists(database_file(temp.path(), "sante")));
}

TEST_F(OutboxStore, SchemaIsVersionedAndANewerOneIsRefused) {
    {
        RawDatabase raw(file);
        EXPECT_EQ(raw.value("PRAGMA user_version"), "3");
        EXPECT_EQ(raw.value("PRAGMA journal_mode"), "wal");
        raw.execute("PRAGMA user_version = 4");
    }
    try {
        FamilyStore newer(file, "etat-civil", &key);
        ADD_FAILURE() << "opened a newer schema";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("newer relais"), std::string::npos) << e.what();
    }
}

/// A document as a mail stores it: `pieces` pieces holding `marker`.
struct Document {
    std::string id = FamilyStore::new_document_id();
    std::vector<std::string> pieces;
    std::uint64_t bytes() const {
        std::uint64_t n = 0;
        for (const auto& piece : pieces) {
            n += piece.size();
        }
        return n;
    }
};

Document store_document(FamilyStore& store, const std::string& marker, std::size_t pieces,
                        Clock::time_point at) {
    Document document;
    for (std::size_t seq = 0; seq < pieces; ++seq) {
        document.pieces.push_back("piece-" + std::to_string(seq) + "-" + marker);
        store.store_piece(document.id, seq, document.pieces.back(), at);
    }
    return document;
}

TEST_F(OutboxStore, DocumentPiecesAreSealedReadBackAndLeaveWithTheDeliveredPayload) {
    const std::string marker = "CANARY-document-5e1b";
    const Document document = store_document(store, marker, 3, t0);
    NewMessage message{Kind::demand, "courrier", "courrier-entrant", "req-1", "{}", {}};
    message.document = document.id;
    message.document_bytes = document.bytes();
    const std::string id = store.enqueue(message, t0).tracking_id;
    store.checkpoint();
    EXPECT_FALSE(any_file_contains(temp.path(), marker));
    std::string sealed;
    {
        RawDatabase raw(file);
        sealed = raw.value("SELECT sealed FROM document_pieces WHERE seq = 1");
    }
    EXPECT_TRUE(any_file_contains(temp.path(), sealed));

    const auto due = store.due("courrier", Kind::demand, t0, 10, {}, 1h);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].document, document.id);
    EXPECT_EQ(due[0].document_bytes, document.bytes());
    for (std::size_t seq = 0; seq < 3; ++seq) {
        EXPECT_EQ(store.read_piece(document.id, seq), document.pieces[seq]);
    }
    EXPECT_EQ(store.read_piece(document.id, 3), std::nullopt);

    store.record(id, {Verdict::delivered, {}, 200, {}, {}}, t0 + 1s, 1h);
    store.checkpoint();
    EXPECT_EQ(store.read_piece(document.id, 0), std::nullopt);
    EXPECT_FALSE(any_file_contains(temp.path(), sealed));
}

TEST_F(OutboxStore, DocumentGoesWhenItsDeadLetterIsErasedOrItsMessageDropped) {
    const Document erased = store_document(store, "erased", 2, t0);
    const Document dropped = store_document(store, "dropped", 2, t0);
    std::vector<std::string> ids;
    for (const Document* document : {&erased, &dropped}) {
        NewMessage message{Kind::demand, "courrier", "form", "req-1", "{}", {}};
        message.document = document->id;
        message.document_bytes = document->bytes();
        ids.push_back(store.enqueue(message, t0).tracking_id);
    }
    store.record(ids[0], {Verdict::dead, {}, 400, "upstream-error", {}}, t0, 1h);
    // A dead letter keeps its document as long as its payload.
    EXPECT_EQ(store.read_piece(erased.id, 1), erased.pieces[1]);
    store.sweep(t0 + 2h, settings);
    EXPECT_EQ(store.read_piece(erased.id, 0), std::nullopt);
    EXPECT_EQ(store.read_piece(dropped.id, 0), dropped.pieces[0]);
    EXPECT_TRUE(store.drop(ids[1]));
    EXPECT_EQ(store.read_piece(dropped.id, 0), std::nullopt);
}

TEST_F(OutboxStore, OrphanDocumentsAreDroppedButNotOneAMessageHolds) {
    const Document held = store_document(store, "held", 1, t0);
    const Document abandoned = store_document(store, "abandoned", 2, t0);
    const Document recent = store_document(store, "recent", 1, t0 + 90min);
    NewMessage message{Kind::demand, "courrier", "form", "req-1", "{}", {}};
    message.document = held.id;
    message.document_bytes = held.bytes();
    store.enqueue(message, t0);
    store.drop_document(held.id);
    EXPECT_EQ(store.read_piece(held.id, 0), held.pieces[0]);
    // An hour after they were stored, pieces no message holds are dropped.
    EXPECT_EQ(store.sweep(t0 + 2h, settings).orphan_pieces_dropped, 2u);
    EXPECT_EQ(store.read_piece(abandoned.id, 0), std::nullopt);
    EXPECT_EQ(store.read_piece(recent.id, 0), recent.pieces[0]);
    EXPECT_EQ(store.read_piece(held.id, 0), held.pieces[0]);
    store.drop_document(recent.id);
    EXPECT_EQ(store.read_piece(recent.id, 0), std::nullopt);
}

TEST_F(OutboxStore, AMessageWhoseDocumentIsNotStoredIsRefused) {
    NewMessage message{Kind::demand, "courrier", "form", "req-1", "{}", {}};
    message.document = FamilyStore::new_document_id();
    message.document_bytes = 10;
    EXPECT_THROW(store.enqueue(message, t0), std::runtime_error);
    EXPECT_TRUE(store.list({}).empty());
}

TEST_F(OutboxStore, ADocumentStillBeingWrittenKeepsItsOldPieces) {
    // Its first piece is older than the orphan age, its last one is not.
    Document slow = store_document(store, "slow", 1, t0);
    slow.pieces.push_back("piece-1-slow");
    store.store_piece(slow.id, 1, slow.pieces.back(), t0 + 50min);
    EXPECT_EQ(store.sweep(t0 + 70min, settings).orphan_pieces_dropped, 0u);
    EXPECT_EQ(store.read_piece(slow.id, 0), slow.pieces[0]);
    EXPECT_EQ(store.sweep(t0 + 2h, settings).orphan_pieces_dropped, 2u);
}

TEST_F(OutboxStore, RepeatedDemandDropsItsOwnCopyOfTheDocument) {
    const Document first = store_document(store, "first", 1, t0);
    const Document again = store_document(store, "again", 1, t0);
    NewMessage message{Kind::demand, "courrier", "form", "req-1", "{}", "digest"};
    message.document = first.id;
    message.document_bytes = first.bytes();
    const Enqueued enqueued = store.enqueue(message, t0);
    message.document = again.id;
    const Enqueued repeated = store.enqueue(message, t0);
    EXPECT_FALSE(repeated.created);
    EXPECT_EQ(repeated.tracking_id, enqueued.tracking_id);
    EXPECT_EQ(store.read_piece(again.id, 0), std::nullopt);
    EXPECT_EQ(store.read_piece(first.id, 0), first.pieces[0]);
}

TEST_F(OutboxStore, MovedPiecesAndAMessagePointedElsewhereNoLongerOpen) {
    const Document document = store_document(store, "moved", 2, t0);
    const Document other = store_document(store, "other", 2, t0);
    NewMessage message{Kind::demand, "courrier", "form", "req-1", "{}", {}};
    message.document = document.id;
    message.document_bytes = document.bytes();
    const std::string id = store.enqueue(message, t0).tracking_id;
    {
        RawDatabase raw(file);
        raw.execute("UPDATE document_pieces SET seq = 9 WHERE document = '" + document.id +
                    "' AND seq = 1");
        raw.execute("UPDATE document_pieces SET seq = 1 WHERE document = '" + document.id +
                    "' AND seq = 0");
        raw.execute("UPDATE messages SET document = '" + other.id + "'");
    }
    EXPECT_EQ(store.read_piece(document.id, 1), std::nullopt);
    // The payload is bound to its document: pointed at another, it is a
    // dead letter ("payload cannot be decrypted").
    EXPECT_TRUE(store.due("courrier", Kind::demand, t0, 10, {}, 1h).empty());
    EXPECT_EQ(info(id).state, State::dead);
}

TEST_F(OutboxStore, VersionOneDatabaseGainsDocumentsAndKeepsItsMessages) {
    const std::string id = push("civil", "kept", t0);
    {
        RawDatabase raw(file);
        raw.execute(
            "DROP TRIGGER messages_document_erased; DROP TRIGGER messages_document_deleted; "
            "DROP TABLE document_pieces; DROP INDEX messages_document; "
            "ALTER TABLE messages DROP COLUMN document; "
            "ALTER TABLE messages DROP COLUMN document_bytes; DROP INDEX messages_sequence; "
            "ALTER TABLE messages DROP COLUMN sequence; PRAGMA user_version = 1;");
    }
    {
        // An operator's command, without the key, upgrades it too and lists it.
        FamilyStore metadata(file, "etat-civil", nullptr);
        ASSERT_EQ(metadata.list({}).size(), 1u);
        EXPECT_EQ(metadata.list({})[0].tracking_id, id);
    }
    FamilyStore reopened(file, "etat-civil", &key);
    const auto due = reopened.due("civil", Kind::push, t0, 10, {}, 1h);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].info.tracking_id, id);
    EXPECT_EQ(due[0].payload, "kept");
    const Document document = store_document(reopened, "after", 1, t0);
    EXPECT_EQ(reopened.read_piece(document.id, 0), document.pieces[0]);
    RawDatabase raw(file);
    EXPECT_EQ(raw.value("PRAGMA user_version"), "3");
}

TEST_F(OutboxStore, VersionTwoDatabaseGainsSequencesAndKeepsItsMessages) {
    const std::string id = push("civil", "kept", t0, Kind::trigger);
    {
        RawDatabase raw(file);
        raw.execute(
            "DROP INDEX messages_sequence; ALTER TABLE messages DROP COLUMN sequence; "
            "PRAGMA user_version = 2;");
    }
    FamilyStore reopened(file, "etat-civil", &key);
    EXPECT_EQ(RawDatabase(file).value("PRAGMA user_version"), "3");
    NewMessage later{Kind::trigger, "civil", "status", "req-2", "later", {}};
    later.sequence = "demand-1";
    const std::string later_id = reopened.enqueue(later, t0 + 1s).tracking_id;
    std::vector<std::string> due;
    for (const auto& message : reopened.due("civil", Kind::trigger, t0 + 1s, 10, {}, 1h)) {
        due.push_back(message.info.tracking_id);
    }
    EXPECT_EQ(due, (std::vector{id, later_id}));
}

TEST_F(OutboxStore, MessagesOfASequenceAreDueOneAtATimeInTheirOrder) {
    const auto queue = [&](std::string sequence, std::string payload, Clock::time_point at) {
        NewMessage message{Kind::trigger, "civil", "status", "req-1", std::move(payload), {}};
        message.sequence = std::move(sequence);
        return store.enqueue(message, at).tracking_id;
    };
    // The later status of a demand is queued with an earlier next attempt
    // than the first one's retry: it still waits.
    const std::string received = queue("demand-1", "received", t0);
    const std::string accepted = queue("demand-1", "accepted", t0 + 1s);
    const std::string other = queue("demand-2", "received", t0 + 1s);
    const std::string alone = push("civil", "no sequence", t0 + 1s, Kind::trigger);
    EXPECT_EQ(due_ids("civil", Kind::trigger, t0 + 1s), (std::vector{received, other, alone}));
    // In progress (skipped by the engine), it still holds the next one back.
    EXPECT_EQ(due_ids("civil", Kind::trigger, t0 + 1s, 10, {received}),
              (std::vector{other, alone}));
    store.record(received, {Verdict::retry, t0 + 10s, 503, "gru-error", "503"}, t0 + 2s,
                 settings.dead_letter_retention);
    EXPECT_EQ(due_ids("civil", Kind::trigger, t0 + 5s), (std::vector{other, alone}));
    EXPECT_EQ(due_ids("civil", Kind::trigger, t0 + 10s), (std::vector{other, alone, received}));
    store.record(received, {Verdict::delivered, {}, 200, {}, {}}, t0 + 11s,
                 settings.dead_letter_retention);
    EXPECT_EQ(due_ids("civil", Kind::trigger, t0 + 11s), (std::vector{accepted, other, alone}));
    // A dead letter no longer holds its sequence back.
    const std::string next = queue("demand-2", "accepted", t0 + 12s);
    store.record(other, {Verdict::dead, {}, 404, "trigger-unavailable", "404"}, t0 + 12s,
                 settings.dead_letter_retention);
    EXPECT_EQ(due_ids("civil", Kind::trigger, t0 + 12s), (std::vector{accepted, alone, next}));
}

}  // namespace
}  // namespace relais::outbox
