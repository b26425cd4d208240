#include "controlplane/resolvers/sqlite_db.h"

#include <sqlite3.h>

#include "absl/strings/str_cat.h"

namespace ringside::resolvers {
namespace {

absl::Status status_for(int code, std::string_view what, const char* message) {
  std::string text = absl::StrCat(absl::string_view(what.data(), what.size()), ": ", message);
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(absl::StrCat(text, " (database busy)"));
    case SQLITE_INTERRUPT:
      return absl::DeadlineExceededError(text);
    default:
      return absl::InternalError(text);
  }
}

}  // namespace

SqliteDb::~SqliteDb() { close(); }

absl::Status SqliteDb::open(const std::string& path, std::chrono::milliseconds busy_timeout) {
  close();
  int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status s = status_for(rc, absl::StrCat("cannot open ", path), db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
    close();
    return s;
  }
  sqlite3_extended_result_codes(db_, 1);
  if (busy_timeout.count() > 0) sqlite3_busy_timeout(db_, static_cast<int>(busy_timeout.count()));
  // Checked every 1000 VM instructions: cheap, and fine-grained enough for a 1 s budget.
  sqlite3_progress_handler(db_, 1000, &SqliteDb::progress, this);
  return absl::OkStatus();
}

void SqliteDb::close() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
  db_ = nullptr;
}

int SqliteDb::progress(void* self) {
  auto* db = static_cast<SqliteDb*>(self);
  if (db->deadline_ == std::chrono::steady_clock::time_point{}) return 0;
  return std::chrono::steady_clock::now() > db->deadline_ ? 1 : 0;
}

void SqliteDb::set_deadline(std::chrono::milliseconds budget) {
  deadline_ = std::chrono::steady_clock::now() + budget;
}

void SqliteDb::clear_deadline() { deadline_ = {}; }

absl::Status SqliteDb::exec(const std::string& sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return absl::OkStatus();
  absl::Status s = status_for(rc, sql.substr(0, 60), message ? message : sqlite3_errstr(rc));
  sqlite3_free(message);
  return s;
}

absl::StatusOr<SqliteStatement> SqliteDb::prepare(const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return status_for(rc, sql.substr(0, 60), sqlite3_errmsg(db_));
  return SqliteStatement(this, stmt);
}

int64_t SqliteDb::changes() const { return sqlite3_changes(db_); }

absl::Status SqliteDb::error(std::string_view what) const {
  return status_for(sqlite3_extended_errcode(db_), what, sqlite3_errmsg(db_));
}

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
  other.stmt_ = nullptr;
}

SqliteStatement::~SqliteStatement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

void SqliteStatement::bind_text(int index, std::string_view value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
}

void SqliteStatement::bind_int(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }

absl::StatusOr<bool> SqliteStatement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->error(sqlite3_sql(stmt_) ? std::string_view(sqlite3_sql(stmt_)).substr(0, 60) : "statement");
}

std::string SqliteStatement::column_text(int index) const {
  const unsigned char* text = sqlite3_column_text(stmt_, index);
  int n = sqlite3_column_bytes(stmt_, index);
  return text ? std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(n)) : std::string();
}

int64_t SqliteStatement::column_int(int index) const { return sqlite3_column_int64(stmt_, index); }

void SqliteStatement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool is_busy(const absl::Status& status) { return absl::IsUnavailable(status); }

}  // namespace ringside::resolvers
