#pragma once
/// @file
/// The little of SQLite the outbox uses, with RAII and exceptions: prepared
/// statements with bound parameters (never SQL built from values).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace relais::outbox::sqlite {

/// Throws std::runtime_error: `context` (the database's family or file),
/// what failed and SQLite's message (which names tables and columns, never
/// values).
[[noreturn]] void fail(sqlite3* db, std::string_view context, std::string_view what);

/// Runs SQL without parameters (pragmas, schema, transaction control).
void execute(sqlite3* db, std::string_view context, const char* sql);

/// A prepared statement. `context` must outlive it.
class Statement {
public:
    Statement(sqlite3* db, std::string_view context, std::string_view sql);
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    /// Parameters are numbered from 1, as in `?1`.
    Statement& bind(int index, std::string_view text);
    Statement& bind(int index, std::int64_t value);
    /// Not copied (payloads may be megabytes): `bytes` must outlive the
    /// statement's run.
    Statement& bind_blob(int index, std::string_view bytes);
    Statement& bind_null(int index);
    /// `text`, or NULL when it is empty.
    Statement& bind_text_or_null(int index, std::string_view text);

    /// True while there is a row to read.
    bool step();
    /// Steps to completion; the number of rows it changed.
    std::size_t run();

    bool is_null(int column) const;
    std::int64_t integer(int column) const;
    std::optional<std::int64_t> optional_integer(int column) const;
    std::string text(int column) const;
    std::string blob(int column) const;

private:
    sqlite3* db_;
    std::string_view context_;
    sqlite3_stmt* statement_ = nullptr;
};

}  // namespace relais::outbox::sqlite
