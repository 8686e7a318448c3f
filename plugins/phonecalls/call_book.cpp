#include "phonecalls/call_book.hpp"

#include <algorithm>
#include <ctime>
#include <utility>

#include "core/event_channel.hpp"
#include "core/http_types.hpp"

namespace relais::phonecalls {

namespace {

using std::chrono::milliseconds;

/// Bounds of the sweeper's sleep: often enough that an auto-stop or an
/// expiry is late by a fraction of its duration, seldom enough to cost
/// nothing when idle.
constexpr milliseconds min_sweep_interval{50};
constexpr milliseconds max_sweep_interval{1000};

}  // namespace

std::string iso8601_utc(std::chrono::system_clock::time_point t) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buf[32];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return std::string(buf, n);
}

namespace {

/// A stream its connection has let go of, or that ended.
bool gone(const std::weak_ptr<EventChannel>& held) {
    const auto stream = held.lock();
    return stream == nullptr || stream->closed();
}

}  // namespace

CallBook::CallBook(const Settings& settings) : settings_(settings) {}

CallBook::~CallBook() {
    for (auto& [callee, line] : lines_) {
        for (const auto& held : line.streams) {
            if (const auto stream = held.lock()) {
                stream->close();
            }
        }
    }
}

void CallBook::apply(const Settings& settings, std::uint64_t generation) {
    const std::lock_guard lock(mutex_);
    if (generation < generation_) {
        return;
    }
    generation_ = generation;
    settings_ = settings;
    while (current_count_ + ended_.size() > settings_.max_calls && !ended_.empty()) {
        forget_oldest_ended();
    }
}

Settings CallBook::settings() const {
    const std::lock_guard lock(mutex_);
    return settings_;
}

std::string CallBook::to_json(const Call& call, std::string_view callee,
                              const std::optional<Instant>& end) {
    std::string out;
    out.reserve(96 + call.caller.size() + callee.size() + call.data_json.size());
    out += "{\"caller\":";
    append_json_string(out, call.caller);
    out += ",\"callee\":";
    append_json_string(out, callee);
    out += ",\"start\":\"";
    out += iso8601_utc(call.start.wall);
    out += "\",\"end\":";
    if (end) {
        out += '"';
        out += iso8601_utc(end->wall);
        out += '"';
    } else {
        out += "null";
    }
    out += ",\"data\":";
    out += call.data_json.empty() ? std::string_view("{}") : std::string_view(call.data_json);
    out += '}';
    return out;
}

void CallBook::append_calls(std::string& out, std::string_view callee, const Line& line,
                            std::size_t limit) {
    out += "{\"current\":[";
    bool first = true;
    for (auto it = line.current.rbegin(); it != line.current.rend(); ++it) {
        if (!std::exchange(first, false)) {
            out += ',';
        }
        out += to_json(*it, callee, it->end);
    }
    out += "],\"past\":[";
    first = true;
    std::size_t n = 0;
    for (auto it = line.past.rbegin(); it != line.past.rend() && n < limit; ++it, ++n) {
        if (!std::exchange(first, false)) {
            out += ',';
        }
        out += to_json(*it, callee, it->end);
    }
    out += "]}";
}

CallBook::Change CallBook::prepare(const Line* line, std::string_view event, std::string json) {
    Change change{std::move(json), {}};
    if (line != nullptr && !line->streams.empty()) {
        change.event = format_sse_event(event, change.json);
    }
    return change;
}

CallBook::Change CallBook::prepare_end(Lines::const_iterator line, std::size_t index, Instant now) {
    return prepare(&line->second, "call-stop",
                   to_json(line->second.current[index], line->first, now));
}

void CallBook::publish(Line& line, const std::string& event) {
    if (line.streams.empty()) {
        return;
    }
    std::erase_if(line.streams, [&](const std::weak_ptr<EventChannel>& held) {
        if (const auto stream = held.lock(); stream != nullptr && stream->push(event)) {
            return false;
        }
        --stream_count_;
        return true;
    });
}

void CallBook::end_call(Lines::iterator line, std::size_t index, Instant now,
                        const Change& ending) {
    Call call = std::move(line->second.current[index]);
    line->second.current.erase(line->second.current.begin() + static_cast<std::ptrdiff_t>(index));
    --current_count_;
    call.end = now;
    publish(line->second, ending.event);
    if (settings_.retention > milliseconds::zero()) {
        ended_.emplace_back(now.steady, line->first);
        line->second.past.push_back(std::move(call));
    }
}

void CallBook::forget_oldest_ended() {
    const auto line = lines_.find(ended_.front().second);
    ended_.pop_front();
    if (line == lines_.end()) {
        return;
    }
    line->second.past.pop_front();
    erase_if_idle(line);
}

void CallBook::forget_expired(Instant now) {
    while (!ended_.empty() && ended_.front().first + settings_.retention <= now.steady) {
        forget_oldest_ended();
    }
}

void CallBook::erase_if_idle(Lines::iterator line) {
    const Line& l = line->second;
    if (l.current.empty() && l.past.empty() && l.streams.empty()) {
        lines_.erase(line);
    }
}

std::optional<std::string> CallBook::start(std::string_view caller, std::string_view callee,
                                           std::string data_json, Instant now) {
    const std::lock_guard lock(mutex_);
    forget_expired(now);
    const auto line = lines_.find(callee);
    std::optional<std::size_t> restarted;
    if (line != lines_.end()) {
        const auto& current = line->second.current;
        const auto same = std::find_if(current.begin(), current.end(),
                                       [&](const Call& c) { return c.caller == caller; });
        if (same != current.end()) {
            restarted = static_cast<std::size_t>(same - current.begin());
        }
    }
    if (current_count_ - (restarted ? 1 : 0) >= settings_.max_calls) {
        return std::nullopt;
    }
    Call call{std::string(caller), std::move(data_json), now, {}};
    std::optional<Change> ending;
    if (restarted) {
        ending = prepare_end(line, *restarted, now);
    }
    Change starting = prepare(line == lines_.end() ? nullptr : &line->second, "call-start",
                              to_json(call, callee, std::nullopt));

    if (ending) {
        end_call(line, *restarted, now, *ending);
    }
    while (current_count_ + ended_.size() >= settings_.max_calls && !ended_.empty()) {
        forget_oldest_ended();
    }
    // Looked up again: forgetting ended calls may have erased the line (it
    // had no stream then, so no event is lost).
    const auto kept = lines_.try_emplace(std::string(callee)).first;
    kept->second.current.push_back(std::move(call));
    ++current_count_;
    publish(kept->second, starting.event);
    return std::move(starting.json);
}

std::optional<std::string> CallBook::stop(std::string_view caller, std::string_view callee,
                                          Instant now) {
    const std::lock_guard lock(mutex_);
    forget_expired(now);
    const auto line = lines_.find(callee);
    if (line == lines_.end()) {
        return std::nullopt;
    }
    const auto& current = line->second.current;
    const auto same = std::find_if(current.begin(), current.end(),
                                   [&](const Call& c) { return c.caller == caller; });
    if (same == current.end()) {
        return std::nullopt;
    }
    const auto index = static_cast<std::size_t>(same - current.begin());
    Change ending = prepare_end(line, index, now);
    end_call(line, index, now, ending);
    erase_if_idle(line);
    return std::move(ending.json);
}

std::string CallBook::listing(std::string_view callee, std::size_t limit) const {
    std::string out;
    const auto line = lines_.find(callee);
    if (line == lines_.end()) {
        out = "{\"current\":[],\"past\":[]}";
    } else {
        append_calls(out, callee, line->second, limit);
    }
    return out;
}

std::string CallBook::calls(std::string_view callee, std::size_t limit, Instant now) {
    const std::lock_guard lock(mutex_);
    forget_expired(now);
    return listing(callee, limit);
}

std::optional<std::string> CallBook::subscribe(std::string_view callee,
                                               std::shared_ptr<EventChannel> stream,
                                               std::size_t limit, Instant now) {
    const std::lock_guard lock(mutex_);
    forget_expired(now);
    if (stream_count_ >= settings_.max_streams) {
        for (auto it = lines_.begin(); it != lines_.end();) {
            auto next = std::next(it);
            stream_count_ -= std::erase_if(it->second.streams, gone);
            erase_if_idle(it);
            it = next;
        }
        if (stream_count_ >= settings_.max_streams) {
            return std::nullopt;
        }
    }
    std::string event = format_sse_event("calls", listing(callee, limit));
    const auto kept = lines_.try_emplace(std::string(callee)).first;
    try {
        kept->second.streams.push_back(std::move(stream));
    } catch (...) {
        erase_if_idle(kept);
        throw;
    }
    ++stream_count_;
    return event;
}

std::size_t CallBook::sweep(Instant now) {
    const std::lock_guard lock(mutex_);
    std::size_t stopped = 0;
    for (auto it = lines_.begin(); it != lines_.end();) {
        auto next = std::next(it);
        auto& current = it->second.current;
        // Oldest first: the calls over the limit are at the front.
        while (!current.empty() &&
               current.front().start.steady + settings_.max_call_duration <= now.steady) {
            end_call(it, 0, now, prepare_end(it, 0, now));
            ++stopped;
        }
        stream_count_ -= std::erase_if(it->second.streams, gone);
        erase_if_idle(it);
        it = next;
    }
    forget_expired(now);
    return stopped;
}

milliseconds CallBook::sweep_interval() const {
    const std::lock_guard lock(mutex_);
    milliseconds shortest = settings_.max_call_duration;
    if (settings_.retention > milliseconds::zero()) {
        shortest = std::min(shortest, settings_.retention);
    }
    return std::clamp(shortest / 4, min_sweep_interval, max_sweep_interval);
}

std::size_t CallBook::open_streams() const {
    const std::lock_guard lock(mutex_);
    return stream_count_;
}

std::size_t CallBook::size() const {
    const std::lock_guard lock(mutex_);
    return current_count_ + ended_.size();
}

}  // namespace relais::phonecalls
