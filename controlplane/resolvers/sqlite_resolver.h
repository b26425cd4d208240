// The sqlite resolver: Dapr's own table layout (components-contrib nameresolution/sqlite),
// so daprd and ringsided sidecars on one host find each other through one SQLite file.
//
//   <tableName> (default hosts): registration_id TEXT PK, address TEXT (unique), app_id TEXT,
//                                namespace TEXT (written empty, as daprd does), last_update INTEGER (unix s)
//   <metadataTableName> (default metadata): key/value; 'nr-migrations' = schema level,
//                                'nr-last-cleanup' = time of the last expired-row GC
//
// Differences from daprd, on purpose:
// - If a heartbeat finds our row gone (another process took the address over, or daprd's GC
//   deleted it), daprd exits fatally; we log and register again with a new id.
// - daprd's GC query deletes rows *younger* than updateInterval (inverted); ours deletes
//   rows older than max(updateInterval, cleanupInterval), so it never removes the row of a
//   live daprd that uses a longer updateInterval. Lookups filter by age either way.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "controlplane/config/configuration.h"
#include "controlplane/resolvers/resolver.h"
#include "controlplane/resolvers/sqlite_db.h"

namespace ringside::resolvers {

class SqliteResolver final : public Resolver {
 public:
  explicit SqliteResolver(config::SqliteOptions options);
  ~SqliteResolver() override;

  absl::Status start(const SelfRegistration& self, InstanceSink* sink = nullptr) override;
  absl::Status heartbeat() override;
  absl::StatusOr<std::vector<snapshot::Instance>> list() override;
  void stop() override;
  // Issue 10, app health: false deletes our row (callers stop picking us at their next listing),
  // true writes it again (new registration id). Heartbeats renew nothing while withdrawn.
  absl::Status set_serving(bool serving) override;
  // updateInterval − timeout − 1s (3 s by default), at least half of updateInterval − timeout.
  std::chrono::milliseconds heartbeat_interval() const override;
  bool namespace_aware() const override { return false; }

  // Our current registration id (a random UUID; changes when re-registering). "" before start.
  const std::string& registration_id() const { return registration_id_; }

 private:
  absl::Status open_and_migrate();
  absl::Status migrate();
  absl::Status register_self();
  absl::Status renew();            // UPDATE last_update; NotFound when our row is gone
  absl::Status unregister_self();  // DELETE our row (stop(), set_serving(false))
  absl::Status cleanup_if_due();   // expired-row GC, coordinated through nr-last-cleanup
  // Runs `fn` under the query deadline, retrying while the database is busy.
  template <typename Fn>
  absl::Status with_retry(Fn fn);

  config::SqliteOptions options_;                  // from the Configuration
  SqliteDb db_;                                    // our connection
  SelfRegistration self_;                          // what we registered
  std::string registration_id_;                    // UUID of our row; "" = not registered
  bool withdrawn_ = false;                         // issue 10: set_serving(false) took our row out
  std::chrono::steady_clock::time_point next_cleanup_{};  // when to try the GC next
  absl::flat_hash_set<std::string> warned_addresses_;     // undialable addresses already logged
};

}  // namespace ringside::resolvers
