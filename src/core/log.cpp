#include "core/log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <system_error>

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
            if constexpr (std::is_same_v<T, std::string_view>) {
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
        fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0) {
            throw std::system_error(errno, std::generic_category(),
                                    "cannot open log file " + file.string());
        }
    }
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
        line += ',';
        append_json_string(line, f.key);
        line += ':';
        append_value(line, f.value);
    }
    line += "}\n";
    const int fd = output_fd.load(std::memory_order_relaxed);
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
        const auto n = ::write(fd, p, left);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

}  // namespace relais::log
