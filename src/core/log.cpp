#include "core/log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

#include "core/http_types.hpp"

namespace relais::log {

namespace {

std::atomic<Level> minimum_level{Level::info};
std::atomic<int> output_fd{STDERR_FILENO};

std::string_view level_name(Level level) noexcept {
    switch (level) {
        case Level::debug:
            return "debug";
        case Level::info:
            return "info";
        case Level::warn:
            return "warn";
        case Level::error:
            return "error";
    }
    return "info";
}

void append_timestamp(std::string& out) {
    const auto now = std::chrono::system_clock::now();
    const auto seconds = std::chrono::system_clock::to_time_t(now);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buf[32];
    const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
    out.append(buf, n);
    std::snprintf(buf, sizeof buf, ".%03dZ", static_cast<int>(millis));
    out += buf;
}

void append_value(std::string& out, const Field::Value& value) {
    std::visit(
        [&out](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
                // left out by write()
            } else if constexpr (std::is_same_v<T, std::string_view>) {
                append_json_string(out, v);
            } else if constexpr (std::is_same_v<T, bool>) {
                out += v ? "true" : "false";
            } else if constexpr (std::is_same_v<T, double>) {
                char buf[32];
                std::snprintf(buf, sizeof buf, "%.6g", v);
                out += buf;
            } else {
                out += std::to_string(v);
            }
        },
        value);
}

/// Writes log lines on a thread of its own, so that a slow destination (a
/// full pipe to journald, a stalled disk) never blocks an I/O thread. Lines
/// wait in a bounded buffer; beyond it they are dropped and counted, and the
/// count is logged once the destination keeps up again.
class LineWriter {
public:
    static constexpr std::size_t max_pending_bytes = 8 * 1024 * 1024;

    LineWriter() : thread_([this] { run(); }) {}
    ~LineWriter() {
        {
            const std::scoped_lock lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        thread_.join();
    }
    LineWriter(const LineWriter&) = delete;
    LineWriter& operator=(const LineWriter&) = delete;

    void push(std::string_view line) {
        {
            const std::scoped_lock lock(mutex_);
            if (pending_.size() + line.size() > max_pending_bytes) {
                ++dropped_;
                return;
            }
            pending_ += line;
        }
        wake_.notify_one();
    }

    /// Returns once every line pushed so far has been written.
    void flush() {
        std::unique_lock lock(mutex_);
        idle_.wait(lock, [this] { return pending_.empty() && !writing_; });
    }

private:
    void run() {
        std::string batch;
        std::unique_lock lock(mutex_);
        for (;;) {
            wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
            if (pending_.empty()) {
                return;  // stopping, and everything is written
            }
            batch.swap(pending_);
            const std::uint64_t dropped = std::exchange(dropped_, 0);
            writing_ = true;
            lock.unlock();
            write_all(batch);
            if (dropped > 0) {
                write_all(R"({"level":"warn","event":"log_lines_dropped","count":)" +
                          std::to_string(dropped) + "}\n");
            }
            batch.clear();
            lock.lock();
            writing_ = false;
            idle_.notify_all();
        }
    }

    static void write_all(std::string_view text) {
        const int fd = output_fd.load(std::memory_order_relaxed);
        while (!text.empty()) {
            const auto n = ::write(fd, text.data(), text.size());
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                return;
            }
            text.remove_prefix(static_cast<std::size_t>(n));
        }
    }

    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable idle_;
    std::string pending_;
    std::uint64_t dropped_ = 0;
    bool writing_ = false;
    bool stopping_ = false;
    std::thread thread_;  // last: started once everything above exists
};

LineWriter& line_writer() {
    static LineWriter writer;
    return writer;
}

}  // namespace

bool parse_level(std::string_view text, Level& out) noexcept {
    for (Level l : {Level::debug, Level::info, Level::warn, Level::error}) {
        if (text == level_name(l)) {
            out = l;
            return true;
        }
    }
    return false;
}

void configure(Level minimum, const std::filesystem::path& file) {
    minimum_level = minimum;
    int fd = STDERR_FILENO;
    if (!file.empty()) {
        fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
            throw std::system_error(errno, std::generic_category(),
                                    "cannot open log file " + file.string());
        }
    }
    line_writer().flush();
    const int previous = output_fd.exchange(fd);
    if (previous != STDERR_FILENO) {
        ::close(previous);
    }
}

void set_level(Level minimum) noexcept {
    minimum_level = minimum;
}

bool enabled(Level level) noexcept {
    return level >= minimum_level.load(std::memory_order_relaxed);
}

void write(Level level, std::string_view event, std::initializer_list<Field> fields) {
    if (!enabled(level)) {
        return;
    }
    std::string line;
    line.reserve(256);
    line += R"({"ts":")";
    append_timestamp(line);
    line += R"(","level":")";
    line += level_name(level);
    line += R"(","event":)";
    append_json_string(line, event);
    for (const auto& f : fields) {
        if (std::holds_alternative<std::monostate>(f.value)) {
            continue;
        }
        line += ',';
        append_json_string(line, f.key);
        line += ':';
        append_value(line, f.value);
    }
    line += "}\n";
    line_writer().push(line);
}

}  // namespace relais::log
