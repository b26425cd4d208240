#pragma once
// Rows the fault-injection tests write into a sidecar's SQLite registry directly: instances
// listed by hand (a caller that knows a callee only at a relay's or a fake peer's address) and
// faults done to the registry itself.
#include <sqlite3.h>

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"

namespace ringside::e2e::fault {

// Registers app_id at 127.0.0.1:port in the SQLite registry `db_path`, fresh for an hour (a
// future last_update keeps the row without a heartbeat).
inline bool RegisterPeer(const std::string& db_path, std::string_view app_id, uint16_t port,
                  std::string_view registration_id = "") {
  sqlite3* db = nullptr;
  if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    return false;
  }
  sqlite3_busy_timeout(db, 5000);
  const std::string id(app_id);
  const std::string registration(registration_id.empty() ? app_id : registration_id);
  const std::string sql = absl::StrCat(
      "INSERT INTO hosts (registration_id, address, app_id, namespace, last_update) VALUES ('test-", registration,
      "', '127.0.0.1:", port, "', '", id, "', '', ", static_cast<int64_t>(std::time(nullptr)) + 3600, ")");
  const bool ok = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
  sqlite3_close(db);
  return ok;
}

// Runs `sql` on the SQLite database `db_path`; false (with the error in *error) if it failed.
inline bool ExecSql(const std::string& db_path, const std::string& sql, std::string* error = nullptr,
             std::vector<std::string>* rows = nullptr) {
  sqlite3* db = nullptr;
  if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    return false;
  }
  sqlite3_busy_timeout(db, 5000);
  char* message = nullptr;
  auto collect = [](void* out, int, char** values, char**) {
    if (values[0] != nullptr) static_cast<std::vector<std::string>*>(out)->push_back(values[0]);
    return 0;
  };
  const bool ok = sqlite3_exec(db, sql.c_str(), rows ? +collect : nullptr, rows, &message) == SQLITE_OK;
  if (!ok && error) *error = message ? message : "?";
  sqlite3_free(message);
  sqlite3_close(db);
  return ok;
}

}  // namespace ringside::e2e::fault
