#include "outbox/sqlite.hpp"

#include <sqlite3.h>

#include <stdexcept>

namespace relais::outbox::sqlite {

void fail(sqlite3* db, std::string_view context, std::string_view what) {
    std::string message = "outbox database ";
    message += context;
    message += ": ";
    message += what;
    if (db != nullptr) {
        message += ": ";
        message += sqlite3_errmsg(db);
    }
    throw std::runtime_error(message);
}

void execute(sqlite3* db, std::string_view context, const char* sql) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
        fail(db, context, "cannot run statement");
    }
}

Statement::Statement(sqlite3* db, std::string_view context, std::string_view sql)
    : db_(db), context_(context) {
    if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &statement_, nullptr) !=
        SQLITE_OK) {
        fail(db_, context_, "cannot prepare statement");
    }
}

Statement::~Statement() {
    sqlite3_finalize(statement_);
}

Statement& Statement::bind(int index, std::string_view text) {
    if (sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()),
                          SQLITE_TRANSIENT) != SQLITE_OK) {
        fail(db_, context_, "cannot bind a parameter");
    }
    return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
    if (sqlite3_bind_int64(statement_, index, value) != SQLITE_OK) {
        fail(db_, context_, "cannot bind a parameter");
    }
    return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
    if (sqlite3_bind_blob64(statement_, index, bytes.data(), bytes.size(), SQLITE_STATIC) !=
        SQLITE_OK) {
        fail(db_, context_, "cannot bind a parameter");
    }
    return *this;
}

Statement& Statement::bind_null(int index) {
    if (sqlite3_bind_null(statement_, index) != SQLITE_OK) {
        fail(db_, context_, "cannot bind a parameter");
    }
    return *this;
}

Statement& Statement::bind_text_or_null(int index, std::string_view text) {
    return text.empty() ? bind_null(index) : bind(index, text);
}

bool Statement::step() {
    const int result = sqlite3_step(statement_);
    if (result == SQLITE_ROW) {
        return true;
    }
    if (result == SQLITE_DONE) {
        return false;
    }
    fail(db_, context_, "statement failed");
}

std::size_t Statement::run() {
    while (step()) {
    }
    return static_cast<std::size_t>(sqlite3_changes64(db_));
}

bool Statement::is_null(int column) const {
    return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}

std::int64_t Statement::integer(int column) const {
    return sqlite3_column_int64(statement_, column);
}

std::optional<std::int64_t> Statement::optional_integer(int column) const {
    if (is_null(column)) {
        return std::nullopt;
    }
    return integer(column);
}

std::string Statement::text(int column) const {
    const auto* text = sqlite3_column_text(statement_, column);
    const auto size = static_cast<std::size_t>(sqlite3_column_bytes(statement_, column));
    return text == nullptr ? std::string{} : std::string(reinterpret_cast<const char*>(text), size);
}

std::string Statement::blob(int column) const {
    const auto* bytes = sqlite3_column_blob(statement_, column);
    const auto size = static_cast<std::size_t>(sqlite3_column_bytes(statement_, column));
    return bytes == nullptr ? std::string{} : std::string(static_cast<const char*>(bytes), size);
}

}  // namespace relais::outbox::sqlite
