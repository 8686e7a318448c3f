#pragma once
/// @file
/// Structured logging: one JSON object per line. Lines are handed to a
/// writer thread (I/O threads never wait on the destination) that writes
/// them whole, so lines from several threads never interleave. If the
/// destination falls 8 MiB behind, further lines are dropped and a
/// `log_lines_dropped` line says how many.
///
/// What may be logged is a privacy rule, not a style choice: request ids,
/// client, connector, endpoint, status, durations, error classes. Never
/// parameter values, bodies, headers or secrets, except values an endpoint
/// declares non-personal.

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace relais::log {

enum class Level { debug, info, warn, error };

/// Parses "debug" | "info" | "warn" | "error"; false if unknown.
bool parse_level(std::string_view text, Level& out) noexcept;

/// One key/value of a log line.
struct Field {
    /// std::monostate: no value, the field is left out of the line.
    using Value = std::variant<std::string_view, std::int64_t, double, bool, std::monostate>;
    std::string_view key;
    Value value;

    Field(std::string_view k, std::string_view v) : key(k), value(v) {}
    Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
    Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
    Field(std::string_view k, bool v) : key(k), value(v) {}
    Field(std::string_view k, double v) : key(k), value(v) {}
    template <std::integral T>
    requires(!std::same_as<T, bool>) Field(std::string_view k, T v)
        : key(k), value(static_cast<std::int64_t>(v)) {}
    /// A field that only some lines of an event carry: written if `v` holds
    /// a value, left out otherwise, so that one call serves every variant.
    template <typename T>
    Field(std::string_view k, const std::optional<T>& v)
        : key(k), value(v ? Field(k, *v).value : Value(std::monostate{})) {}
};

/// Sets the minimum level and the destination (empty path: standard error).
/// Throws std::system_error if the file cannot be opened for appending.
void configure(Level minimum, const std::filesystem::path& file = {});

/// Changes the minimum level only; safe while other threads log (reload).
void set_level(Level minimum) noexcept;

/// Whether a line of `level` would be written.
bool enabled(Level level) noexcept;

/// Writes `{"ts":…,"level":…,"event":…, fields…}`.
void write(Level level, std::string_view event, std::initializer_list<Field> fields = {});

inline void debug(std::string_view event, std::initializer_list<Field> fields = {}) {
    write(Level::debug, event, fields);
}
inline void info(std::string_view event, std::initializer_list<Field> fields = {}) {
    write(Level::info, event, fields);
}
inline void warn(std::string_view event, std::initializer_list<Field> fields = {}) {
    write(Level::warn, event, fields);
}
inline void error(std::string_view event, std::initializer_list<Field> fields = {}) {
    write(Level::error, event, fields);
}

}  // namespace relais::log
