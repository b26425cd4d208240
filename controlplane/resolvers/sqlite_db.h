// Minimal RAII wrapper over one SQLite connection for the sqlite resolver: prepared
// statements, absl::Status errors, and a per-call deadline (SQLite progress handler) so a
// single query cannot run past the resolver's `timeout`.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct sqlite3;
struct sqlite3_stmt;

namespace ringside::resolvers {

class SqliteStatement;

class SqliteDb {
 public:
  SqliteDb() = default;
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Opens (creating) the file and sets the busy timeout.
  absl::Status open(const std::string& path, std::chrono::milliseconds busy_timeout);
  void close();
  bool is_open() const { return db_ != nullptr; }

  // Runs one or more statements that return no rows of interest.
  absl::Status exec(const std::string& sql);
  // Compiles one statement.
  absl::StatusOr<SqliteStatement> prepare(const std::string& sql);
  // Rows changed by the last INSERT/UPDATE/DELETE.
  int64_t changes() const;

  // Calls started after this fail with "interrupted" once `budget` has elapsed.
  void set_deadline(std::chrono::milliseconds budget);
  void clear_deadline();

  // Error for the connection's last failure, prefixed with `what`.
  absl::Status error(std::string_view what) const;
  sqlite3* handle() const { return db_; }

 private:
  static int progress(void* self);
  sqlite3* db_ = nullptr;                              // the connection; null when closed
  std::chrono::steady_clock::time_point deadline_{};   // see set_deadline(); epoch = none
};

// One prepared statement; reset/bind/step in the usual SQLite way.
class SqliteStatement {
 public:
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&&) = delete;
  ~SqliteStatement();

  void bind_text(int index, std::string_view value);  // 1-based, SQLite convention
  void bind_int(int index, int64_t value);
  // true = a row is available, false = done; error on failure (busy, interrupted, ...).
  absl::StatusOr<bool> step();
  std::string column_text(int index) const;  // 0-based
  int64_t column_int(int index) const;
  void reset();  // rewinds and clears bindings for reuse

 private:
  friend class SqliteDb;
  SqliteStatement(const SqliteDb* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  const SqliteDb* db_;   // owning connection (for error text)
  sqlite3_stmt* stmt_;   // the compiled statement
};

// True when `status` came from SQLITE_BUSY/SQLITE_LOCKED (worth a retry).
bool is_busy(const absl::Status& status);

}  // namespace ringside::resolvers
