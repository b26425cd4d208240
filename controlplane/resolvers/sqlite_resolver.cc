#include "controlplane/resolvers/sqlite_resolver.h"

#include <sys/random.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ringside::resolvers {
namespace {

using std::chrono::milliseconds;

// Random (version 4) UUID text, as Go's uuid.NewRandom().String().
std::string random_uuid() {
  unsigned char b[16];
  size_t got = 0;
  while (got < sizeof(b)) {
    ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
  return absl::StrFormat("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
                         b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

// mkdir -p of the directory holding `file`.
absl::Status make_parent_dirs(const std::string& file) {
  for (size_t pos = file.find('/', 1); pos != std::string::npos; pos = file.find('/', pos + 1)) {
    std::string dir = file.substr(0, pos);
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      return absl::PermissionDeniedError(absl::StrCat("cannot create directory ", dir, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

void log_line(const std::string& text) { std::fprintf(stderr, "ringside: sqlite resolver: %s\n", text.c_str()); }

}  // namespace

SqliteResolver::SqliteResolver(config::SqliteOptions options) : options_(std::move(options)) {}

SqliteResolver::~SqliteResolver() { stop(); }

milliseconds SqliteResolver::heartbeat_interval() const {
  // Half the slack: rows age in whole seconds (unixepoch truncates, so a row can look up to 1 s
  // older than it is) and a renewal can wait out SQLite's busy handler (up to `timeout`). With
  // the defaults (5 s, 1 s) a renewal every 3 s left about 1 s before readers dropped the row,
  // and a sidecar whose heartbeat ran late under load vanished from its callers' tables.
  const milliseconds slack = options_.update_interval - options_.timeout;
  return std::max(slack / 2, milliseconds(500));
}

template <typename Fn>
absl::Status SqliteResolver::with_retry(Fn fn) {
  const auto give_up = std::chrono::steady_clock::now() + options_.timeout;
  for (;;) {
    db_.set_deadline(options_.timeout);
    absl::Status s = fn();
    db_.clear_deadline();
    if (!is_busy(s) || std::chrono::steady_clock::now() + milliseconds(50) > give_up) return s;
    std::this_thread::sleep_for(milliseconds(50));  // daprd's constant 50 ms backoff
  }
}

absl::Status SqliteResolver::open_and_migrate() {
  if (options_.path_is_default) {
    if (absl::Status s = make_parent_dirs(options_.path); !s.ok()) return s;
  }
  if (absl::Status s = db_.open(options_.path, options_.busy_timeout); !s.ok()) return s;
  // journal_mode must be set outside a transaction; WAL lets readers and the heartbeat writer
  // of several sidecars proceed without blocking each other.
  const std::string journal = options_.disable_wal ? "DELETE" : "WAL";
  absl::Status s = with_retry([&] { return db_.exec(absl::StrCat("PRAGMA journal_mode=", journal)); });
  if (!s.ok()) return s;
  return migrate();
}

absl::Status SqliteResolver::migrate() {
  const std::string& hosts = options_.table_name;
  const std::string& meta = options_.metadata_table_name;
  // Exclusive lock for the whole migration, as components-contrib does: two sidecars
  // starting together must not both create the table. Busy handler waits busyTimeout.
  absl::Status s = with_retry([&] { return db_.exec("BEGIN EXCLUSIVE TRANSACTION"); });
  if (!s.ok()) return s;
  auto body = [&]() -> absl::Status {
    if (absl::Status e = db_.exec(absl::StrCat("CREATE TABLE IF NOT EXISTS ", meta,
                                               " (key text NOT NULL PRIMARY KEY, value text NOT NULL)"));
        !e.ok())
      return e;
    absl::StatusOr<SqliteStatement> get = db_.prepare(absl::StrCat("SELECT value FROM ", meta, " WHERE key = 'nr-migrations'"));
    if (!get.ok()) return get.status();
    absl::StatusOr<bool> row = get->step();
    if (!row.ok()) return row.status();
    int level = 0;
    if (*row) {
      std::string text = get->column_text(0);
      if (std::sscanf(text.c_str(), "%d", &level) != 1 || level < 0)
        return absl::FailedPreconditionError(absl::StrCat("invalid migration level found in metadata table: ", text));
    }
    if (level < 1) {
      // Migration 1 of components-contrib, verbatim schema.
      if (absl::Status e = db_.exec(absl::StrCat(
              "CREATE TABLE ", hosts,
              " (registration_id TEXT NOT NULL PRIMARY KEY, address TEXT NOT NULL, app_id TEXT NOT NULL,"
              " namespace TEXT NOT NULL, last_update INTEGER NOT NULL);",
              "CREATE UNIQUE INDEX ", hosts, "_address_idx ON ", hosts, " (address);",
              "CREATE INDEX ", hosts, "_last_update_idx ON ", hosts, " (last_update);"));
          !e.ok())
        return e;
      if (absl::Status e = db_.exec(absl::StrCat("REPLACE INTO ", meta, " (key, value) VALUES ('nr-migrations', '1')"));
          !e.ok())
        return e;
    }
    return absl::OkStatus();
  };
  s = body();
  if (!s.ok()) {
    (void)db_.exec("ROLLBACK TRANSACTION");
    return absl::Status(s.code(), absl::StrCat("failed to perform migrations: ", s.message()));
  }
  return db_.exec("COMMIT TRANSACTION");
}

absl::Status SqliteResolver::register_self() {
  std::string id = random_uuid();
  absl::Status s = with_retry([&]() -> absl::Status {
    // There is a unique index on address: REPLACE takes over any previous registration of it.
    // Same statement as daprd, so both write identical rows.
    absl::StatusOr<SqliteStatement> st = db_.prepare(absl::StrCat(
        "REPLACE INTO ", options_.table_name,
        " (registration_id, address, app_id, namespace, last_update) VALUES (?, ?, ?, ?, unixepoch(CURRENT_TIMESTAMP))"));
    if (!st.ok()) return st.status();
    st->bind_text(1, id);
    st->bind_text(2, self_.address);
    st->bind_text(3, self_.app_id);
    st->bind_text(4, "");  // daprd always writes an empty namespace (components-contrib#3179)
    return st->step().status();
  });
  if (!s.ok()) return absl::Status(s.code(), absl::StrCat("failed to register host: ", s.message()));
  registration_id_ = std::move(id);
  return absl::OkStatus();
}

absl::Status SqliteResolver::start(const SelfRegistration& self, InstanceSink* /*sink: listing resolver*/) {
  self_ = self;
  // An empty app id = watch only (ringside-sync reads the registry without joining it).
  const bool watch_only = self_.app_id.empty();
  if (!watch_only && self_.address.empty()) return absl::InvalidArgumentError("sqlite resolver: address is missing");
  absl::Status s = open_and_migrate();
  if (s.ok() && !watch_only) s = register_self();
  if (!s.ok()) {
    db_.close();
    return absl::Status(s.code(), absl::StrCat("sqlite name resolution (", options_.path, "): ", s.message()));
  }
  next_cleanup_ = std::chrono::steady_clock::now();
  return absl::OkStatus();
}

absl::Status SqliteResolver::renew() {
  return with_retry([&]() -> absl::Status {
    absl::StatusOr<SqliteStatement> st = db_.prepare(absl::StrCat(
        "UPDATE ", options_.table_name,
        " SET last_update = unixepoch(CURRENT_TIMESTAMP) WHERE registration_id = ? AND address = ?"));
    if (!st.ok()) return st.status();
    st->bind_text(1, registration_id_);
    st->bind_text(2, self_.address);
    if (absl::Status e = st->step().status(); !e.ok()) return e;
    return db_.changes() == 0 ? absl::NotFoundError("host registration lost") : absl::OkStatus();
  });
}

absl::Status SqliteResolver::heartbeat() {
  if (!db_.is_open()) return absl::FailedPreconditionError("sqlite resolver not started");
  if (self_.app_id.empty()) return absl::OkStatus();  // watch only: nothing to renew, GC is the members' job
  if (withdrawn_) return cleanup_if_due();  // issue 10: our app is unhealthy, no row to renew
  absl::Status s = renew();
  if (absl::IsNotFound(s)) {
    // daprd exits here; a sidecar that keeps serving is more useful, so take the address back.
    log_line(absl::StrCat("registration ", registration_id_, " of ", self_.address,
                          " was removed by another process; registering again"));
    s = register_self();
  }
  if (s.ok()) s = cleanup_if_due();
  return s;
}

absl::Status SqliteResolver::cleanup_if_due() {
  if (options_.cleanup_interval.count() <= 0 || std::chrono::steady_clock::now() < next_cleanup_) return absl::OkStatus();
  next_cleanup_ = std::chrono::steady_clock::now() + options_.cleanup_interval;
  return with_retry([&]() -> absl::Status {
    // Claim the GC slot: only the sidecar whose upsert changes nr-last-cleanup does the work.
    absl::StatusOr<SqliteStatement> claim = db_.prepare(absl::StrCat(
        "INSERT INTO ", options_.metadata_table_name,
        " (key, value) VALUES ('nr-last-cleanup', CURRENT_TIMESTAMP) ON CONFLICT (key) DO UPDATE SET value = "
        "CURRENT_TIMESTAMP WHERE unixepoch(CURRENT_TIMESTAMP) - unixepoch(value) > ?"));
    if (!claim.ok()) return claim.status();
    claim->bind_int(1, std::max<int64_t>(options_.cleanup_interval.count() * 95 / 100, 1));
    if (absl::Status e = claim->step().status(); !e.ok()) return e;
    if (db_.changes() == 0) return absl::OkStatus();
    // Only rows dead for a whole cleanup interval: a daprd with a longer updateInterval than
    // ours may be between heartbeats, and daprd exits when it finds its row gone.
    const int64_t dead_after = std::max<int64_t>(options_.update_interval.count(), options_.cleanup_interval.count());
    return db_.exec(absl::StrCat("DELETE FROM ", options_.table_name,
                                 " WHERE unixepoch(CURRENT_TIMESTAMP) - last_update >= ", dead_after));
  });
}

absl::StatusOr<std::vector<snapshot::Instance>> SqliteResolver::list() {
  if (!db_.is_open()) return absl::FailedPreconditionError("sqlite resolver not started");
  std::vector<snapshot::Instance> out;
  absl::Status s = with_retry([&]() -> absl::Status {
    out.clear();
    // Same liveness rule as daprd's ResolveID: now − last_update < updateInterval (seconds).
    absl::StatusOr<SqliteStatement> st = db_.prepare(absl::StrCat(
        "SELECT address, app_id, namespace FROM ", options_.table_name,
        " WHERE unixepoch(CURRENT_TIMESTAMP) - last_update < ", options_.update_interval.count()));
    if (!st.ok()) return st.status();
    for (;;) {
      absl::StatusOr<bool> row = st->step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      std::string address = st->column_text(0);
      absl::StatusOr<snapshot::Instance> inst = snapshot::make_instance(st->column_text(1), st->column_text(2), address);
      if (!inst.ok()) {
        if (warned_addresses_.insert(address).second)
          log_line(absl::StrCat("ignoring registration with address ", address, ": ", inst.status().message()));
        continue;
      }
      out.push_back(*std::move(inst));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status SqliteResolver::unregister_self() {
  return with_retry([&]() -> absl::Status {
    absl::StatusOr<SqliteStatement> st = db_.prepare(
        absl::StrCat("DELETE FROM ", options_.table_name, " WHERE registration_id = ? AND address = ?"));
    if (!st.ok()) return st.status();
    st->bind_text(1, registration_id_);
    st->bind_text(2, self_.address);
    return st->step().status();
  });
}

absl::Status SqliteResolver::set_serving(bool serving) {
  if (!db_.is_open() || self_.app_id.empty()) return absl::OkStatus();  // not registering
  if (!serving) {
    if (withdrawn_) return absl::OkStatus();
    if (!registration_id_.empty()) {
      if (absl::Status s = unregister_self(); !s.ok())
        return absl::Status(s.code(), absl::StrCat("failed to unregister host: ", s.message()));
    }
    registration_id_.clear();
    withdrawn_ = true;
    return absl::OkStatus();
  }
  if (!withdrawn_) return absl::OkStatus();
  if (absl::Status s = register_self(); !s.ok()) return s;
  withdrawn_ = false;
  return absl::OkStatus();
}

void SqliteResolver::stop() {
  if (db_.is_open() && !registration_id_.empty()) {
    absl::Status s = unregister_self();
    if (!s.ok()) log_line(absl::StrCat("failed to unregister host: ", s.message()));
  }
  registration_id_.clear();
  db_.close();
}

}  // namespace ringside::resolvers
