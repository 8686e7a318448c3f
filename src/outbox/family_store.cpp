#include <openssl/rand.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <limits>
#include <stdexcept>

#include "core/digest.hpp"
#include "core/url_encoding.hpp"
#include "outbox/outbox.hpp"
#include "outbox/sqlite.hpp"

namespace relais::outbox {

namespace {

using sqlite::Statement;

constexpr int schema_version = 3;

constexpr const char* schema = R"sql(
CREATE TABLE messages (
    tracking_id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    connector TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    request_id TEXT NOT NULL,
    state TEXT NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    next_attempt INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    last_status INTEGER NOT NULL,
    error_class TEXT NOT NULL,
    reason TEXT NOT NULL,
    payload BLOB,
    payload_erase_at INTEGER,
    idempotency TEXT,
    UNIQUE (connector, idempotency)
);
CREATE INDEX messages_due ON messages (state, connector, kind, next_attempt);
CREATE INDEX messages_finished ON messages (state, updated);
CREATE INDEX messages_erase ON messages (payload_erase_at) WHERE payload_erase_at IS NOT NULL;
CREATE TABLE correlations (
    connector TEXT NOT NULL,
    reference TEXT NOT NULL,
    demand_url TEXT NOT NULL,
    created INTEGER NOT NULL,
    PRIMARY KEY (connector, reference)
);
CREATE INDEX correlations_created ON correlations (created);
PRAGMA user_version = 1;
)sql";

/// Version 2: documents (the scanned mail a demand carries), stored sealed
/// in pieces as they arrive, before their message exists. A document goes
/// with its message's payload: when the payload is erased (delivered,
/// retention over) or the message deleted, so are its pieces.
constexpr const char* documents_schema = R"sql(
ALTER TABLE messages ADD COLUMN document TEXT;
ALTER TABLE messages ADD COLUMN document_bytes INTEGER NOT NULL DEFAULT 0;
CREATE TABLE document_pieces (
    document TEXT NOT NULL,
    seq INTEGER NOT NULL,
    created INTEGER NOT NULL,
    sealed BLOB NOT NULL,
    PRIMARY KEY (document, seq)
);
CREATE INDEX document_pieces_created ON document_pieces (created);
CREATE INDEX messages_document ON messages (document) WHERE document IS NOT NULL;
CREATE TRIGGER messages_document_erased AFTER UPDATE OF payload ON messages
    WHEN NEW.payload IS NULL AND OLD.document IS NOT NULL
    BEGIN DELETE FROM document_pieces WHERE document = OLD.document; END;
CREATE TRIGGER messages_document_deleted AFTER DELETE ON messages
    WHEN OLD.document IS NOT NULL
    BEGIN DELETE FROM document_pieces WHERE document = OLD.document; END;
PRAGMA user_version = 2;
)sql";

/// Version 3: sequences. Messages of one sequence (the status reports of
/// one demand) are attempted one at a time, in the order they were queued.
constexpr const char* sequences_schema = R"sql(
ALTER TABLE messages ADD COLUMN sequence TEXT;
CREATE INDEX messages_sequence ON messages (sequence, state) WHERE sequence IS NOT NULL;
PRAGMA user_version = 3;
)sql";

/// The columns read into a MessageInfo, in the order read_info expects.
#define RELAIS_MESSAGE_COLUMNS                                                        \
    "tracking_id, kind, connector, endpoint, request_id, state, created, updated, "   \
    "next_attempt, attempts, last_status, error_class, reason, payload IS NOT NULL, " \
    "payload_erase_at"
constexpr int payload_column = 15;

/// A document no message took within this time was abandoned (its upload
/// failed or its mail was refused): its pieces are dropped by the sweep.
constexpr std::chrono::hours orphan_document_age{1};

/// Pages freed by deletions go back to the file system at each sweep
/// (PRAGMA incremental_vacuum) rather than the file keeping its largest
/// size for good, e.g. after the documents of a day of demands queued while
/// the GRU was down. A database is created so; one created before this
/// setting is rebuilt once, here (VACUUM), which only the daemon does.
void use_incremental_vacuum(sqlite3* db, const std::string& context) {
    constexpr std::int64_t incremental = 2;
    {
        Statement mode(db, context, "PRAGMA auto_vacuum");
        if (mode.step() && mode.integer(0) == incremental) {
            return;
        }
    }
    sqlite::execute(db, context, "PRAGMA auto_vacuum = INCREMENTAL");
    bool has_tables = false;
    {
        Statement tables(db, context, "SELECT count(*) FROM sqlite_schema");
        has_tables = tables.step() && tables.integer(0) > 0;
    }
    if (has_tables) {
        sqlite::execute(db, context, "VACUUM");
    }
}

std::int64_t to_millis(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Clock::time_point from_millis(std::int64_t ms) {
    return Clock::time_point(
        std::chrono::duration_cast<Clock::duration>(std::chrono::milliseconds(ms)));
}

std::int64_t to_int64(std::size_t n) {
    return static_cast<std::int64_t>(std::min<std::size_t>(
        n, static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())));
}

Kind parse_kind(std::string_view text) {
    if (text == name(Kind::push)) {
        return Kind::push;
    }
    if (text == name(Kind::trigger)) {
        return Kind::trigger;
    }
    if (text == name(Kind::demand)) {
        return Kind::demand;
    }
    throw std::runtime_error("outbox database holds a message of unknown kind");
}

MessageInfo read_info(const Statement& row, const std::string& family) {
    MessageInfo info;
    info.tracking_id = row.text(0);
    info.family = family;
    info.kind = parse_kind(row.text(1));
    info.connector = row.text(2);
    info.endpoint = row.text(3);
    info.request_id = row.text(4);
    const auto state = parse_state(row.text(5));
    if (!state) {
        throw std::runtime_error("outbox database of " + family +
                                 " holds a message in an unknown state");
    }
    info.state = *state;
    info.created = from_millis(row.integer(6));
    info.updated = from_millis(row.integer(7));
    info.next_attempt = from_millis(row.integer(8));
    info.attempts = static_cast<unsigned>(row.integer(9));
    info.last_status = static_cast<unsigned>(row.integer(10));
    info.error_class = row.text(11);
    info.reason = row.text(12);
    info.has_payload = row.integer(13) != 0;
    if (const auto erase_at = row.optional_integer(14)) {
        info.payload_erase_at = from_millis(*erase_at);
    }
    return info;
}

/// What a sealed payload is bound to: moved to another row, connector,
/// endpoint or family database, it no longer opens.
std::string associated_data(std::string_view family, std::string_view tracking_id,
                            std::string_view connector, std::string_view endpoint) {
    std::string data;
    data.reserve(family.size() + tracking_id.size() + connector.size() + endpoint.size() + 3);
    data.append(family).append("\n").append(tracking_id).append("\n");
    data.append(connector).append("\n").append(endpoint);
    return data;
}

/// What a message's sealed payload is bound to: its row, and the document
/// it carries (id and size), so that the message cannot be pointed at
/// another document's pieces or at fewer of them.
std::string associated_data(std::string_view family, std::string_view tracking_id,
                            std::string_view connector, std::string_view endpoint,
                            std::string_view document, std::uint64_t document_bytes) {
    std::string data = associated_data(family, tracking_id, connector, endpoint);
    if (!document.empty()) {
        data.append("\n").append(document).append("\n").append(std::to_string(document_bytes));
    }
    return data;
}

/// What a document piece is bound to: its document and its place in it.
std::string piece_associated_data(std::string_view family, std::string_view document,
                                  std::uint64_t seq) {
    std::string data(family);
    data.append("\n").append(document).append("\n").append(std::to_string(seq));
    return data;
}

/// 32 hex digits, 128 random bits: a tracking id or a document id.
std::string new_random_id() {
    std::array<unsigned char, 16> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        throw std::runtime_error("no random bytes for an outbox id");
    }
    return hex_encode(bytes);
}

}  // namespace

std::string_view name(Kind kind) noexcept {
    switch (kind) {
        case Kind::push:
            return "push";
        case Kind::trigger:
            return "trigger";
        case Kind::demand:
            return "demand";
    }
    return "push";
}

std::string_view name(State state) noexcept {
    switch (state) {
        case State::pending:
            return "pending";
        case State::delivered:
            return "delivered";
        case State::dead:
            return "dead";
    }
    return "pending";
}

std::optional<State> parse_state(std::string_view text) noexcept {
    for (const State state : {State::pending, State::delivered, State::dead}) {
        if (text == name(state)) {
            return state;
        }
    }
    return std::nullopt;
}

std::string idempotency_digest(std::string_view scope, std::string_view owner,
                               std::string_view key) {
    std::string text;
    text.append(scope).append(1, '\n').append(owner).append(1, '\n').append(key);
    const Sha256 digest = sha256(text);
    return hex_encode(digest);
}

bool is_family_name(std::string_view family) noexcept {
    return !family.empty() && std::all_of(family.begin(), family.end(), [](char c) {
        return c == '-' || (c >= 'a' && c <= 'z');
    });
}

std::filesystem::path directory(const std::filesystem::path& data_dir) {
    return data_dir / "outbox";
}

std::filesystem::path database_file(const std::filesystem::path& directory,
                                    std::string_view family) {
    return directory / (std::string(family) + ".sqlite");
}

std::vector<std::string> families_in(const std::filesystem::path& directory) {
    std::vector<std::string> families;
    std::error_code error;
    for (std::filesystem::directory_iterator it(directory, error), end; !error && it != end;
         it.increment(error)) {
        const auto& path = it->path();
        std::error_code type_error;
        if (path.extension() == ".sqlite" && is_family_name(path.stem().string()) &&
            it->is_regular_file(type_error)) {
            families.push_back(path.stem().string());
        }
    }
    if (error && error != std::errc::no_such_file_or_directory) {
        throw std::runtime_error("outbox directory " + directory.string() +
                                 ": cannot be read: " + error.message());
    }
    std::sort(families.begin(), families.end());
    return families;
}

FamilyStore::FamilyStore(const std::filesystem::path& file, std::string family, const Key* key)
    : family_(std::move(family)), key_(key) {
    const std::string context = file.string();
    // Without a key nothing may be enqueued: an operator's command never
    // creates a database, it only reads or edits the daemon's.
    const int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (key != nullptr ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(file.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
        const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        throw std::runtime_error("outbox database " + context + ": cannot open: " + message);
    }
    try {
        sqlite3_busy_timeout(db_, 5000);
        // Before WAL mode: a new database takes the setting only until its
        // first page is written.
        if (key != nullptr) {
            use_incremental_vacuum(db_, context);
        }
        {
            Statement wal(db_, context, "PRAGMA journal_mode=WAL");
            if (!wal.step() || wal.text(0) != "wal") {
                sqlite::fail(db_, context, "cannot switch to WAL mode");
            }
        }
        sqlite::execute(db_, context,
                        "PRAGMA synchronous=FULL; PRAGMA secure_delete=ON; "
                        "PRAGMA foreign_keys=OFF;");
        sqlite::execute(db_, context, "BEGIN IMMEDIATE");
        try {
            Statement version(db_, context, "PRAGMA user_version");
            const auto found = version.step() ? version.integer(0) : 0;
            if (found == 0) {
                sqlite::execute(db_, context, schema);
            }
            if (found < 2) {
                sqlite::execute(db_, context, documents_schema);
            }
            if (found < 3) {
                sqlite::execute(db_, context, sequences_schema);
            } else if (found > schema_version) {
                throw std::runtime_error("outbox database " + context +
                                         " was written by a newer relais (schema version " +
                                         std::to_string(found) + ")");
            }
            sqlite::execute(db_, context, "COMMIT");
        } catch (...) {
            sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
    } catch (...) {
        sqlite3_close(db_);
        throw;
    }
}

FamilyStore::~FamilyStore() {
    sqlite3_close(db_);
}

void FamilyStore::begin() {
    // IMMEDIATE takes the write lock now, waiting (busy_timeout) for an
    // operator's command; a deferred transaction could fail half-way instead.
    sqlite::execute(db_, family_, "BEGIN IMMEDIATE");
}

void FamilyStore::commit() {
    sqlite::execute(db_, family_, "COMMIT");
}

void FamilyStore::rollback() noexcept {
    if (sqlite3_get_autocommit(db_) == 0) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

Enqueued FamilyStore::enqueue(const NewMessage& message, Clock::time_point now) {
    if (key_ == nullptr) {
        throw std::logic_error("outbox opened without its key cannot enqueue");
    }
    if (!message.idempotency.empty()) {
        if (auto earlier = find_idempotent(message.connector, message.idempotency)) {
            // The earlier message carries its own copy of the document.
            if (!message.document.empty()) {
                drop_document(message.document);
            }
            return {std::move(*earlier), false};
        }
    }
    if (!message.document.empty()) {
        // Never a 202 for a demand whose document is not there to send.
        Statement stored(db_, family_, "SELECT 1 FROM document_pieces WHERE document = ?1");
        if (!stored.bind(1, message.document).step()) {
            throw std::runtime_error("outbox " + family_ +
                                     ": the message's document is not stored");
        }
    }
    Enqueued enqueued{new_random_id(), true};
    const std::string sealed =
        seal(*key_, message.payload,
             associated_data(family_, enqueued.tracking_id, message.connector, message.endpoint,
                             message.document, message.document_bytes));
    Statement insert(db_, family_,
                     "INSERT INTO messages (tracking_id, kind, connector, endpoint, request_id, "
                     "state, created, updated, next_attempt, attempts, last_status, error_class, "
                     "reason, payload, payload_erase_at, idempotency, document, document_bytes, "
                     "sequence) VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6, ?6, 0, 0, '', '', "
                     "?7, NULL, ?8, ?9, ?10, ?11)");
    insert.bind(1, enqueued.tracking_id)
        .bind(2, name(message.kind))
        .bind(3, message.connector)
        .bind(4, message.endpoint)
        .bind(5, message.request_id)
        .bind(6, to_millis(now))
        .bind_blob(7, sealed)
        .bind_text_or_null(8, message.idempotency)
        .bind_text_or_null(9, message.document)
        .bind(10, static_cast<std::int64_t>(message.document_bytes))
        .bind_text_or_null(11, message.sequence)
        .run();
    return enqueued;
}

std::string FamilyStore::new_document_id() {
    return new_random_id();
}

void FamilyStore::store_piece(std::string_view document, std::uint64_t seq, std::string_view text,
                              Clock::time_point now) {
    if (key_ == nullptr) {
        throw std::logic_error("outbox opened without its key cannot store a document");
    }
    const std::string sealed = seal(*key_, text, piece_associated_data(family_, document, seq));
    Statement insert(db_, family_,
                     "INSERT INTO document_pieces (document, seq, created, sealed) "
                     "VALUES (?1, ?2, ?3, ?4)");
    insert.bind(1, document)
        .bind(2, static_cast<std::int64_t>(seq))
        .bind(3, to_millis(now))
        .bind_blob(4, sealed)
        .run();
}

std::optional<std::string> FamilyStore::read_piece(std::string_view document, std::uint64_t seq) {
    if (key_ == nullptr) {
        throw std::logic_error("outbox opened without its key cannot read a document");
    }
    Statement select(db_, family_,
                     "SELECT sealed FROM document_pieces WHERE document = ?1 AND seq = ?2");
    select.bind(1, document).bind(2, static_cast<std::int64_t>(seq));
    if (!select.step()) {
        return std::nullopt;
    }
    return open(*key_, select.blob(0), piece_associated_data(family_, document, seq));
}

void FamilyStore::drop_document(std::string_view document) {
    // A document a message holds goes only with that message's payload.
    Statement remove(db_, family_,
                     "DELETE FROM document_pieces WHERE document = ?1 AND NOT EXISTS "
                     "(SELECT 1 FROM messages WHERE document = ?1)");
    remove.bind(1, document).run();
}

std::size_t FamilyStore::drop_orphan_documents(Clock::time_point before) {
    // By the newest piece: a document still being written keeps them all.
    Statement remove(db_, family_,
                     "DELETE FROM document_pieces WHERE document IN (SELECT document FROM "
                     "document_pieces GROUP BY document HAVING max(created) < ?1) AND document "
                     "NOT IN (SELECT document FROM messages WHERE document IS NOT NULL)");
    return remove.bind(1, to_millis(before)).run();
}

std::optional<std::string> FamilyStore::find_idempotent(std::string_view connector,
                                                        std::string_view idempotency) {
    Statement earlier(db_, family_,
                      "SELECT tracking_id FROM messages WHERE connector = ?1 AND idempotency = ?2");
    earlier.bind(1, connector).bind(2, idempotency);
    if (earlier.step()) {
        return earlier.text(0);
    }
    return std::nullopt;
}

std::vector<DueMessage> FamilyStore::due(std::string_view connector, Kind kind,
                                         Clock::time_point now, std::size_t limit,
                                         const std::vector<std::string>& skip,
                                         std::chrono::milliseconds dead_letter_retention) {
    if (key_ == nullptr) {
        throw std::logic_error("outbox opened without its key cannot read payloads");
    }
    std::vector<DueMessage> due;
    std::vector<std::string> unreadable;
    {
        // Messages in progress may be among the first due: ask for enough
        // rows that leaving them out still fills `limit`. A message waits
        // while one queued before it in its sequence is pending (in
        // progress, or waiting for its next attempt); rowids grow with
        // each insert.
        Statement select(
            db_, family_,
            "SELECT " RELAIS_MESSAGE_COLUMNS
            ", payload, document, document_bytes FROM messages WHERE state = 'pending' AND "
            "connector = ?1 AND kind = ?2 AND next_attempt <= ?3 AND (sequence IS NULL OR NOT "
            "EXISTS (SELECT 1 FROM messages AS earlier WHERE earlier.sequence = "
            "messages.sequence AND earlier.state = 'pending' AND earlier.rowid < messages.rowid)) "
            "ORDER BY next_attempt LIMIT ?4");
        select.bind(1, connector)
            .bind(2, name(kind))
            .bind(3, to_millis(now))
            .bind(4, to_int64(limit + skip.size()));
        while (due.size() < limit && select.step()) {
            MessageInfo info = read_info(select, family_);
            if (std::find(skip.begin(), skip.end(), info.tracking_id) != skip.end()) {
                continue;
            }
            std::string document = select.is_null(payload_column + 1)
                                       ? std::string()
                                       : select.text(payload_column + 1);
            const auto document_bytes =
                static_cast<std::uint64_t>(select.integer(payload_column + 2));
            auto payload = select.is_null(payload_column)
                               ? std::nullopt
                               : open(*key_, select.blob(payload_column),
                                      associated_data(family_, info.tracking_id, info.connector,
                                                      info.endpoint, document, document_bytes));
            if (!payload) {
                unreadable.push_back(std::move(info.tracking_id));
                continue;
            }
            due.push_back(
                {std::move(info), std::move(*payload), std::move(document), document_bytes});
        }
    }
    for (const auto& tracking_id : unreadable) {
        // Kept sealed for the dead-letter period: with the right key restored,
        // an operator can still retry it.
        Statement dead(db_, family_,
                       "UPDATE messages SET state = 'dead', updated = ?2, error_class = "
                       "'internal-error', reason = 'payload cannot be decrypted', "
                       "payload_erase_at = CASE WHEN payload IS NULL THEN NULL ELSE ?3 END "
                       "WHERE tracking_id = ?1");
        dead.bind(1, tracking_id)
            .bind(2, to_millis(now))
            .bind(3, to_millis(now + dead_letter_retention))
            .run();
    }
    return due;
}

std::vector<std::string> FamilyStore::pending_connectors(Kind kind) {
    Statement select(
        db_, family_,
        "SELECT DISTINCT connector FROM messages WHERE state = 'pending' AND kind = ?1 "
        "ORDER BY connector");
    select.bind(1, name(kind));
    std::vector<std::string> connectors;
    while (select.step()) {
        connectors.push_back(select.text(0));
    }
    return connectors;
}

void FamilyStore::record(std::string_view tracking_id, const AttemptRecord& record,
                         Clock::time_point now, std::chrono::milliseconds dead_letter_retention) {
    const char* sql = nullptr;
    std::int64_t extra = 0;
    switch (record.verdict) {
        case AttemptRecord::Verdict::delivered:
            sql =
                "UPDATE messages SET state = 'delivered', attempts = attempts + 1, "
                "last_status = ?2, error_class = ?3, reason = ?4, updated = ?5, payload = NULL, "
                "payload_erase_at = NULL WHERE tracking_id = ?1 AND state = 'pending'";
            break;
        case AttemptRecord::Verdict::retry:
            sql =
                "UPDATE messages SET attempts = attempts + 1, last_status = ?2, "
                "error_class = ?3, reason = ?4, updated = ?5, next_attempt = ?6 "
                "WHERE tracking_id = ?1 AND state = 'pending'";
            extra = to_millis(record.next_attempt);
            break;
        case AttemptRecord::Verdict::dead:
            sql =
                "UPDATE messages SET state = 'dead', attempts = attempts + 1, last_status = ?2, "
                "error_class = ?3, reason = ?4, updated = ?5, payload_erase_at = CASE WHEN "
                "payload IS NULL THEN NULL ELSE ?6 END WHERE tracking_id = ?1 AND state = "
                "'pending'";
            extra = to_millis(now + dead_letter_retention);
            break;
    }
    Statement update(db_, family_, sql);
    update.bind(1, tracking_id)
        .bind(2, static_cast<std::int64_t>(record.status))
        .bind(3, record.error_class)
        .bind(4, record.reason)
        .bind(5, to_millis(now));
    if (record.verdict != AttemptRecord::Verdict::delivered) {
        update.bind(6, extra);
    }
    update.run();
}

std::optional<MessageInfo> FamilyStore::find(std::string_view tracking_id) {
    Statement select(db_, family_,
                     "SELECT " RELAIS_MESSAGE_COLUMNS " FROM messages WHERE tracking_id = ?1");
    select.bind(1, tracking_id);
    if (!select.step()) {
        return std::nullopt;
    }
    return read_info(select, family_);
}

std::vector<MessageInfo> FamilyStore::list(const Filter& filter) {
    Statement select(db_, family_,
                     "SELECT " RELAIS_MESSAGE_COLUMNS
                     " FROM messages WHERE (?1 IS NULL OR "
                     "state = ?1) AND (?2 = '' OR connector = ?2) ORDER BY created DESC, "
                     "tracking_id LIMIT ?3");
    if (filter.state) {
        select.bind(1, name(*filter.state));
    } else {
        select.bind_null(1);
    }
    select.bind(2, filter.connector).bind(3, to_int64(filter.limit));
    std::vector<MessageInfo> messages;
    while (select.step()) {
        messages.push_back(read_info(select, family_));
    }
    return messages;
}

bool FamilyStore::retry(std::string_view tracking_id, Clock::time_point now) {
    Statement update(db_, family_,
                     "UPDATE messages SET state = 'pending', attempts = 0, last_status = 0, "
                     "error_class = '', reason = '', next_attempt = ?2, updated = ?2, "
                     "created = ?2, payload_erase_at = NULL WHERE tracking_id = ?1 AND "
                     "state = 'dead' AND payload IS NOT NULL");
    return update.bind(1, tracking_id).bind(2, to_millis(now)).run() > 0;
}

bool FamilyStore::drop(std::string_view tracking_id) {
    Statement remove(db_, family_, "DELETE FROM messages WHERE tracking_id = ?1");
    return remove.bind(1, tracking_id).run() > 0;
}

void FamilyStore::put_correlation(std::string_view connector, std::string_view reference,
                                  std::string_view demand_url, Clock::time_point now) {
    Statement upsert(db_, family_,
                     "INSERT INTO correlations (connector, reference, demand_url, created) "
                     "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (connector, reference) DO UPDATE SET "
                     "demand_url = excluded.demand_url, created = excluded.created");
    upsert.bind(1, connector).bind(2, reference).bind(3, demand_url).bind(4, to_millis(now)).run();
}

std::optional<std::string> FamilyStore::find_correlation(std::string_view connector,
                                                         std::string_view reference) {
    Statement select(db_, family_,
                     "SELECT demand_url FROM correlations WHERE connector = ?1 AND reference = ?2");
    select.bind(1, connector).bind(2, reference);
    if (!select.step()) {
        return std::nullopt;
    }
    return select.text(0);
}

void FamilyStore::remove_correlation(std::string_view connector, std::string_view reference,
                                     std::string_view demand_url) {
    Statement remove(db_, family_,
                     "DELETE FROM correlations WHERE connector = ?1 AND reference = ?2 AND "
                     "demand_url = ?3");
    remove.bind(1, connector).bind(2, reference).bind(3, demand_url).run();
}

std::optional<Enqueued> FamilyStore::enqueue_closing(const NewMessage& message,
                                                     std::string_view reference,
                                                     Clock::time_point now) {
    if (!message.idempotency.empty()) {
        if (auto earlier = find_idempotent(message.connector, message.idempotency)) {
            return Enqueued{std::move(*earlier), false};
        }
    }
    Statement remove(db_, family_,
                     "DELETE FROM correlations WHERE connector = ?1 AND reference = ?2");
    if (remove.bind(1, message.connector).bind(2, reference).run() == 0) {
        return std::nullopt;
    }
    return enqueue(message, now);
}

SweepCounts FamilyStore::sweep(Clock::time_point now, const Settings& settings) {
    SweepCounts counts;
    const auto now_ms = to_millis(now);
    {
        Statement expire(db_, family_,
                         "UPDATE messages SET state = 'dead', updated = ?1, error_class = "
                         "'max-age', reason = 'still undelivered after outbox.retention', "
                         "payload_erase_at = ?2 WHERE state = 'pending' AND created < ?3");
        counts.messages_expired = expire.bind(1, now_ms)
                                      .bind(2, to_millis(now + settings.dead_letter_retention))
                                      .bind(3, to_millis(now - settings.retention))
                                      .run();
    }
    {
        Statement erase(db_, family_,
                        "UPDATE messages SET payload = NULL, payload_erase_at = NULL WHERE "
                        "payload_erase_at IS NOT NULL AND payload_erase_at <= ?1");
        counts.payloads_erased = erase.bind(1, now_ms).run();
    }
    {
        Statement purge(db_, family_,
                        "DELETE FROM messages WHERE state IN ('delivered', 'dead') AND payload IS "
                        "NULL AND updated < ?1");
        counts.messages_purged = purge.bind(1, to_millis(now - settings.retention)).run();
    }
    counts.orphan_pieces_dropped = drop_orphan_documents(now - orphan_document_age);
    {
        Statement purge(db_, family_, "DELETE FROM correlations WHERE created < ?1");
        counts.correlations_purged =
            purge.bind(1, to_millis(now - settings.correlation_retention)).run();
    }
    // The next checkpoint shortens the file by the pages this frees.
    sqlite::execute(db_, family_, "PRAGMA incremental_vacuum");
    return counts;
}

void FamilyStore::checkpoint() {
    const int result =
        sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    // Busy: an operator's command is reading; the next checkpoint finishes it.
    if (result != SQLITE_OK && result != SQLITE_BUSY) {
        sqlite::fail(db_, family_, "cannot checkpoint");
    }
}

}  // namespace relais::outbox
