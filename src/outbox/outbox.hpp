#pragma once
/// @file
/// The durable outbox: messages waiting for delivery (async pushes to
/// business applications, status triggers and new demands to the GRU core)
/// and the correlations between business references and GRU demands.
///
/// One SQLite database per family of online services,
/// `<data>/outbox/<family>.sqlite`, in WAL mode with `secure_delete` on:
/// no table or query ever spans two families. Payloads are sealed with
/// AES-256-GCM before they are written (see crypto.hpp) and deleted as
/// soon as the message is delivered, the WAL then checkpointed so that the
/// bytes do not linger; only metadata (ids, names, times, attempts, status,
/// error class) stays, until its retention ends. Dead letters keep their
/// sealed payload for `dead_letter_retention`, then lose it.
///
/// FamilyStore is the synchronous store of one family (used by the Outbox's
/// thread and by `relais outbox`). Outbox serves the daemon: one thread owns
/// every database and runs the jobs the I/O threads queue, committing them
/// in batches (one transaction and one fsync for every job queued meanwhile),
/// so that no I/O thread ever waits on the disk.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/delivery_settings.hpp"
#include "outbox/crypto.hpp"

struct sqlite3;

namespace relais::outbox {

using Clock = std::chrono::system_clock;

enum class Kind : unsigned char {
    push,     ///< to a business application, through a connector's deliver()
    trigger,  ///< a status relayed to the GRU core
    demand,   ///< a new demand opened in the GRU core for a connector
};
enum class State : unsigned char {
    pending,    ///< waiting for its next attempt
    delivered,  ///< done; payload deleted
    dead,       ///< given up; payload kept sealed until payload_erase_at
};
std::string_view name(Kind kind) noexcept;
std::string_view name(State state) noexcept;
std::optional<State> parse_state(std::string_view text) noexcept;

/// Retention periods and intervals (relais.yaml `outbox:`).
using Settings = OutboxSettings;

/// What may be shown about a message: never its payload.
struct MessageInfo {
    std::string tracking_id;  ///< 32 hex digits, 128 random bits
    std::string family;
    Kind kind = Kind::push;
    std::string connector;
    std::string endpoint;
    std::string request_id;  ///< of the request that created it
    State state = State::pending;
    Clock::time_point created;
    Clock::time_point updated;
    Clock::time_point next_attempt;
    unsigned attempts = 0;
    unsigned last_status = 0;  ///< HTTP status of the last attempt; 0: none or no answer
    std::string error_class;   ///< of the last failed attempt or of the verdict
    std::string reason;        ///< log-safe words, never values
    bool has_payload = false;
    std::optional<Clock::time_point> payload_erase_at;  ///< dead letters
};

struct NewMessage {
    Kind kind = Kind::push;
    std::string connector;
    std::string endpoint;
    std::string request_id;
    std::string payload;  ///< plaintext; sealed before it is written
    /// Non-empty: a later enqueue with the same (connector, idempotency)
    /// returns the first message's tracking id and stores nothing. Callers
    /// pass a digest, never a raw client value.
    std::string idempotency;
    /// Non-empty: the document (stored beforehand with store_piece) this
    /// message carries; it is erased with the payload.
    std::string document{};
    std::uint64_t document_bytes = 0;  ///< its size, all pieces together
    /// Non-empty: the messages of one sequence (a digest, like idempotency)
    /// are due one at a time, in the order they were queued: a message waits
    /// while an earlier one of its sequence is pending.
    std::string sequence{};
};

struct Enqueued {
    std::string tracking_id;
    bool created = true;  ///< false: an earlier message had the same idempotency
};

/// A message to attempt now, payload opened.
struct DueMessage {
    MessageInfo info;
    std::string payload;
    std::string document{};  ///< empty: none; else read it with read_piece
    std::uint64_t document_bytes = 0;
};

/// The outcome of one attempt.
struct AttemptRecord {
    enum class Verdict : unsigned char { delivered, retry, dead };
    Verdict verdict = Verdict::delivered;
    Clock::time_point next_attempt;  ///< retry only
    unsigned status = 0;             ///< HTTP status, 0 if none
    std::string error_class;         ///< empty when delivered
    std::string reason;              ///< log-safe words
};

/// What a sweep removed.
struct SweepCounts {
    /// Pending messages older than `retention` (e.g. of a connector no longer
    /// configured), made dead letters so that no payload waits unbounded.
    std::size_t messages_expired = 0;
    std::size_t payloads_erased = 0;  ///< dead letters past their payload retention
    std::size_t messages_purged = 0;  ///< finished messages past retention
    std::size_t correlations_purged = 0;
    /// Pieces of documents no message took within an hour (an upload that
    /// failed half-way, a mail refused once its document was stored).
    std::size_t orphan_pieces_dropped = 0;
};

/// Listing filter for operators.
struct Filter {
    std::optional<State> state;
    std::string connector;  ///< empty: any
    std::size_t limit = 100;
};

/// One family's database. Not thread-safe.
class FamilyStore {
public:
    /// Opens or creates the database (WAL, synchronous=FULL,
    /// secure_delete=ON, schema created if missing). Throws
    /// std::runtime_error naming the file. Without a key (`relais outbox`,
    /// which reads metadata only) enqueue and due throw std::logic_error.
    FamilyStore(const std::filesystem::path& file, std::string family, const Key* key);
    ~FamilyStore();
    FamilyStore(const FamilyStore&) = delete;
    FamilyStore& operator=(const FamilyStore&) = delete;

    const std::string& family() const noexcept { return family_; }

    /// Transactions spanning several calls (the Outbox batches its jobs).
    void begin();
    void commit();
    void rollback() noexcept;

    Enqueued enqueue(const NewMessage& message, Clock::time_point now);
    /// Up to `limit` pending messages of `connector` and `kind` due at
    /// `now`, oldest due first, leaving out `skip` (attempts in progress).
    /// A payload that cannot be opened (another key, damage) is not returned:
    /// its message becomes a dead letter ("payload cannot be decrypted") that
    /// keeps the sealed payload `dead_letter_retention`, so that restoring
    /// the right key and retrying can still deliver it.
    std::vector<DueMessage> due(std::string_view connector, Kind kind, Clock::time_point now,
                                std::size_t limit, const std::vector<std::string>& skip,
                                std::chrono::milliseconds dead_letter_retention);
    /// A fresh document id, for store_piece and NewMessage::document.
    static std::string new_document_id();
    /// Stores piece `seq` (0, 1, 2…) of `document`, sealed on its own.
    void store_piece(std::string_view document, std::uint64_t seq, std::string_view text,
                     Clock::time_point now);
    /// Piece `seq` of `document`, opened; nullopt if it is missing or does
    /// not open (tampered, another key).
    std::optional<std::string> read_piece(std::string_view document, std::uint64_t seq);
    /// Deletes the pieces of `document` unless a message holds it.
    void drop_document(std::string_view document);
    /// Deletes pieces stored before `before` that no message holds.
    std::size_t drop_orphan_documents(Clock::time_point before);
    /// The tracking id of the message of `connector` enqueued with
    /// `idempotency`, if any.
    std::optional<std::string> find_idempotent(std::string_view connector,
                                               std::string_view idempotency);
    /// The connectors with pending messages of `kind`.
    std::vector<std::string> pending_connectors(Kind kind);
    /// Records an attempt: attempts+1, last status and class; delivered
    /// deletes the payload; dead sets payload_erase_at = now +
    /// dead_letter_retention. Unknown ids are ignored.
    void record(std::string_view tracking_id, const AttemptRecord& record, Clock::time_point now,
                std::chrono::milliseconds dead_letter_retention);

    std::optional<MessageInfo> find(std::string_view tracking_id);
    /// Newest first.
    std::vector<MessageInfo> list(const Filter& filter);
    /// Dead letter with its payload -> pending now, attempts reset, and
    /// `created` set to now: max_age and the retention count from the
    /// retry, or the first failure after it would be the last. False if not
    /// a dead letter or its payload is gone.
    bool retry(std::string_view tracking_id, Clock::time_point now);
    /// Deletes a message, metadata and payload. False if unknown.
    bool drop(std::string_view tracking_id);

    /// Records (or replaces) reference -> demand URL for `connector`.
    void put_correlation(std::string_view connector, std::string_view reference,
                         std::string_view demand_url, Clock::time_point now);
    std::optional<std::string> find_correlation(std::string_view connector,
                                                std::string_view reference);
    /// Removes the correlation of `reference` if it still leads to
    /// `demand_url`: a later push may have given the reference to another
    /// demand, whose correlation stays.
    void remove_correlation(std::string_view connector, std::string_view reference,
                            std::string_view demand_url);
    /// Enqueues `message` in place of the correlation of `reference`, which
    /// it removes: nullopt (and nothing written) when `connector` has no
    /// such correlation. A message with the same idempotency as an earlier
    /// one is answered as enqueue() does, correlation or not.
    std::optional<Enqueued> enqueue_closing(const NewMessage& message, std::string_view reference,
                                            Clock::time_point now);

    /// Expires, erases and purges what retention says is over.
    SweepCounts sweep(Clock::time_point now, const Settings& settings);
    /// PRAGMA wal_checkpoint(TRUNCATE): deleted bytes leave the WAL file.
    void checkpoint();

private:
    std::string family_;
    const Key* key_;
    sqlite3* db_ = nullptr;
};

/// The `NewMessage::idempotency` for `key` (a caller's Idempotency-Key, a
/// business reference...) in `scope` and for `owner` (a client, a
/// reference): a SHA-256 in hex, so that the outbox never holds the raw
/// value.
std::string idempotency_digest(std::string_view scope, std::string_view owner,
                               std::string_view key);

/// Whether `family` may name a database: ^[a-z-]+$.
bool is_family_name(std::string_view family) noexcept;
/// `<data_dir>/outbox`.
std::filesystem::path directory(const std::filesystem::path& data_dir);
/// `<directory>/<family>.sqlite`.
std::filesystem::path database_file(const std::filesystem::path& directory,
                                    std::string_view family);
/// The families that have a database in `directory`: none when it does not
/// exist. Throws std::runtime_error naming it when it cannot be read (an
/// operator's command run as another user would otherwise see an empty
/// outbox).
std::vector<std::string> families_in(const std::filesystem::path& directory);

/// The daemon's outbox. Every coroutine below must run on an io_context
/// executor; it suspends until the outbox thread has done (and for writes
/// committed) the job, then resumes on the caller's executor. Database
/// errors are thrown as std::runtime_error in the caller; a family name
/// that is not ^[a-z-]+$ as std::invalid_argument.
///
/// GCC 12 miscompiles a braced temporary passed by value to a coroutine
/// inside a co_await (`co_await outbox.record(f, id, {…})` frees a bad
/// pointer): name the AttemptRecord or NewMessage first.
class Outbox {
public:
    /// Creates `directory` (0700) if needed, opens every family database in
    /// it, and starts the outbox thread. Throws std::runtime_error.
    Outbox(std::filesystem::path directory, Key key, Settings settings);
    /// Runs the jobs already queued, then stops the thread.
    ~Outbox();
    Outbox(const Outbox&) = delete;
    Outbox& operator=(const Outbox&) = delete;

    const Settings& settings() const noexcept;
    /// Families with a database (opened at start or created since).
    std::vector<std::string> families() const;
    /// Transactions committed so far: one per family per batch of jobs, so
    /// that tests (and metrics) can see commits being shared.
    std::size_t commits() const noexcept;

    /// Durable once it returns: the 202 may be sent.
    boost::asio::awaitable<Enqueued> enqueue(std::string family, NewMessage message);
    boost::asio::awaitable<std::vector<DueMessage>> due(std::string family, std::string connector,
                                                        Kind kind, std::size_t limit,
                                                        std::vector<std::string> skip);
    boost::asio::awaitable<std::vector<std::string>> pending_connectors(std::string family,
                                                                        Kind kind);
    boost::asio::awaitable<void> record(std::string family, std::string tracking_id,
                                        AttemptRecord record);
    boost::asio::awaitable<std::optional<MessageInfo>> find(std::string family,
                                                            std::string tracking_id);
    boost::asio::awaitable<std::optional<std::string>> find_idempotent(std::string family,
                                                                       std::string connector,
                                                                       std::string idempotency);
    boost::asio::awaitable<void> put_correlation(std::string family, std::string connector,
                                                 std::string reference, std::string demand_url);
    boost::asio::awaitable<std::optional<std::string>> find_correlation(std::string family,
                                                                        std::string connector,
                                                                        std::string reference);
    boost::asio::awaitable<void> remove_correlation(std::string family, std::string connector,
                                                    std::string reference, std::string demand_url);
    /// FamilyStore::enqueue_closing, durable once it returns.
    boost::asio::awaitable<std::optional<Enqueued>> enqueue_closing(std::string family,
                                                                    NewMessage message,
                                                                    std::string reference);
    /// FamilyStore::store_piece, durable once it returns.
    boost::asio::awaitable<void> store_piece(std::string family, std::string document,
                                             std::uint64_t seq, std::string text);
    boost::asio::awaitable<std::optional<std::string>> read_piece(std::string family,
                                                                  std::string document,
                                                                  std::uint64_t seq);
    /// FamilyStore::drop_document.
    boost::asio::awaitable<void> drop_document(std::string family, std::string document);
    /// Sweeps every family, then checkpoints each database.
    boost::asio::awaitable<SweepCounts> sweep();
    /// Checkpoints the databases where payloads were deleted since the last
    /// checkpoint (called by the delivery engine after deliveries).
    boost::asio::awaitable<void> checkpoint_if_deleted();

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace relais::outbox
