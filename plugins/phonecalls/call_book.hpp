#pragma once
/// @file
/// The calls of one phonecalls connector, in memory only: the current calls
/// and the recently ended ones of every extension (callee), and the
/// Server-Sent Events streams of the agents' screens watching them.
///
/// A CallBook is shared by every I/O thread (one mutex) and outlives a
/// configuration reload of its connector (see call_book_registry.hpp).
/// Every operation takes the time from its caller, so that tests drive
/// the clock.
///
/// | setting             | meaning                                                  |
/// |---------------------|----------------------------------------------------------|
/// | `max_call_duration` | a current call older than this is stopped by `sweep`     |
/// | `retention`         | an ended call is forgotten this long after its end       |
/// | `max_calls`         | calls kept, current and ended; the oldest ended go first |
/// | `max_streams`       | open streams at once; `subscribe` refuses beyond         |
/// | `heartbeat`         | quiet time after which a stream sends a comment          |

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/string_map.hpp"

namespace relais {
class EventChannel;
}

namespace relais::phonecalls {

struct Settings {
    std::chrono::milliseconds max_call_duration{std::chrono::hours(2)};
    std::chrono::milliseconds retention{std::chrono::minutes(10)};
    std::size_t max_calls = 10'000;
    std::size_t max_streams = 2'000;
    std::chrono::milliseconds heartbeat{std::chrono::seconds(15)};

    bool operator==(const Settings&) const = default;
};

/// A moment as the call book needs it: the monotonic time for durations
/// (a wall clock set back must not keep calls longer) and the wall time
/// shown in answers.
struct Instant {
    std::chrono::steady_clock::time_point steady;
    std::chrono::system_clock::time_point wall;

    static Instant now() noexcept {
        return {std::chrono::steady_clock::now(), std::chrono::system_clock::now()};
    }
    Instant operator+(std::chrono::milliseconds d) const noexcept { return {steady + d, wall + d}; }
};

/// Formats `t` as ISO 8601 UTC to the second: `2024-05-17T09:30:00Z`.
std::string iso8601_utc(std::chrono::system_clock::time_point t);

class CallBook {
public:
    explicit CallBook(const Settings& settings);
    /// Ends the streams still open: their agents reconnect and learn that
    /// the connector is gone.
    ~CallBook();
    CallBook(const CallBook&) = delete;
    CallBook& operator=(const CallBook&) = delete;

    /// Replaces the settings (a reload) unless settings of a later
    /// `generation` were applied already: a connector of the configuration
    /// being replaced may serve its first request after the new one did.
    /// Streams already open keep their heartbeat.
    void apply(const Settings& settings, std::uint64_t generation);
    Settings settings() const;

    /// Starts a call; `data_json` is a serialized JSON object. A current
    /// call of the same caller and callee is ended first (the phone system
    /// missed a stop). Returns the call as JSON, or nullopt when `max_calls`
    /// current calls leave no room (nothing changes then).
    ///
    /// Here and in `stop` and `sweep`, what is sent is built before the book
    /// changes: an exception leaves the book as it was.
    std::optional<std::string> start(std::string_view caller, std::string_view callee,
                                     std::string data_json, Instant now);

    /// Ends the current call of `caller` to `callee`; returns it as JSON, or
    /// nullopt if there is none.
    std::optional<std::string> stop(std::string_view caller, std::string_view callee, Instant now);

    /// `{"current":[…],"past":[…]}` of `callee`, most recent first, at most
    /// `limit` ended calls.
    std::string calls(std::string_view callee, std::size_t limit, Instant now);

    /// Registers `stream` for the events of `callee` and returns the event
    /// it must send first: `calls`, with the snapshot that `calls` would
    /// answer. Nothing can happen between the two. The event is built before
    /// `stream` is registered, so an exception leaves it out. Nullopt when
    /// `max_streams` streams are open.
    std::optional<std::string> subscribe(std::string_view callee,
                                         std::shared_ptr<EventChannel> stream, std::size_t limit,
                                         Instant now);

    /// Stops the calls older than `max_call_duration` (their streams get
    /// the stop event), forgets ended calls past `retention` and drops
    /// closed streams. Returns how many calls it stopped.
    std::size_t sweep(Instant now);

    /// How long the sweeper may sleep between two sweeps.
    std::chrono::milliseconds sweep_interval() const;

    /// True for the first caller only: it starts the sweeper.
    bool claim_sweeper() noexcept { return !sweeper_claimed_.exchange(true); }

    std::size_t open_streams() const;
    /// Calls held, current and ended.
    std::size_t size() const;

private:
    struct Call {
        std::string caller;
        std::string data_json;
        Instant start;
        std::optional<Instant> end;
    };
    /// One extension: its calls and its streams. Erased once empty so that
    /// no number outlives its calls.
    struct Line {
        std::vector<Call> current;  ///< oldest first
        std::deque<Call> past;      ///< by end, oldest first
        /// Held weakly: a stream belongs to its connection, and goes with it.
        std::vector<std::weak_ptr<EventChannel>> streams;
    };
    /// Looked up by the string_view of a request without copying it.
    using Lines = StringMap<Line>;

    /// A call as JSON and, when its line has streams, the event telling
    /// them: built before the book changes.
    struct Change {
        std::string json;
        std::string event;
    };

    static std::string to_json(const Call& call, std::string_view callee,
                               const std::optional<Instant>& end);
    static void append_calls(std::string& out, std::string_view callee, const Line& line,
                             std::size_t limit);
    /// What `calls` answers; the caller holds the lock.
    std::string listing(std::string_view callee, std::size_t limit) const;
    /// `json` and, when `line` is not null and has streams, its `event`.
    static Change prepare(const Line* line, std::string_view event, std::string json);
    /// What ending current call `index` of `line` at `now` sends.
    static Change prepare_end(Lines::const_iterator line, std::size_t index, Instant now);
    /// Moves a current call to `past` (unless retention is zero) and tells
    /// the line's streams with `ending`, from `prepare_end`.
    void end_call(Lines::iterator line, std::size_t index, Instant now, const Change& ending);
    void publish(Line& line, const std::string& event);
    void forget_expired(Instant now);
    void forget_oldest_ended();
    void erase_if_idle(Lines::iterator line);

    mutable std::mutex mutex_;
    Settings settings_;
    Lines lines_;
    /// Callee of every ended call, in the order they ended: each line's
    /// `past` is ended in the same order, so the front here is always the
    /// front of that line's `past`.
    std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> ended_;
    std::size_t current_count_ = 0;
    std::size_t stream_count_ = 0;
    std::uint64_t generation_ = 0;
    std::atomic<bool> sweeper_claimed_{false};
};

}  // namespace relais::phonecalls
