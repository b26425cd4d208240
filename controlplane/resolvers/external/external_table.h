// ExternalTable: the sidecar's copy of the synchronizer's table of other clusters' instances,
// kept up to date from the Subscribe stream (FULL, then DELTAs). Pure data, no I/O: the
// SyncSubscriber feeds it one TableUpdate at a time and reads the instance list after a change.
//
// Ordering rules (proto/ringside/sync/v1/sync.proto):
// - a FULL replaces everything and adopts its epoch and version;
// - a DELTA applies only to the table it names: same epoch and base_version equal to the held
//   version, and only after a FULL was received on the current stream; anything else is an error
//   that makes the subscriber drop the stream and resubscribe (the table is left untouched);
// - when a stream ends the table is kept (sidecars keep serving) but the next stream must start
//   with a FULL.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "controlplane/snapshot/instance.h"
#include "ringside/sync/v1/sync.pb.h"

namespace ringside::resolvers::external {

class ExternalTable {
 public:
  // Applies one update. *changed says whether the instance set differs afterwards (a FULL equal
  // to what is held, e.g. after a resubscribe, changes nothing). An error leaves the table as it
  // was and means: drop the stream and resubscribe.
  absl::Status apply(const ringside::sync::v1::TableUpdate& update, bool* changed);

  // The stream ended: keep the instances, expect a FULL first on the next stream.
  void stream_ended() { synced_ = false; }

  // Every instance as the control plane takes it (cluster, weight, health set). Entries whose
  // address is not host:port are left out (*skipped counts them when given).
  std::vector<snapshot::Instance> instances(size_t* skipped = nullptr) const;

  const std::string& epoch() const { return epoch_; }  // of the table held ("" = none yet)
  uint64_t version() const { return version_; }        // within epoch()
  size_t size() const { return entries_.size(); }      // instances held

 private:
  // (app id, namespace, address, cluster): what a removal names.
  using Key = std::tuple<std::string, std::string, std::string, std::string>;
  static Key key_of(const ringside::sync::v1::Instance& i);
  static Key key_of(const ringside::sync::v1::InstanceKey& k);

  // What an instance carries besides its key.
  struct Attributes {
    uint32_t weight = 1;   // load-balancing weight (0 on the wire is read as 1)
    bool healthy = true;   // false = its registry says it is bad
    friend bool operator==(const Attributes&, const Attributes&) = default;
  };
  static Attributes attributes_of(const ringside::sync::v1::Instance& i);

  std::map<Key, Attributes> entries_;                    // the table, ordered for stable output
  std::string epoch_;                                    // the synchronizer run it came from
  uint64_t version_ = 0;                                 // its version within epoch_
  bool synced_ = false;                                  // a FULL arrived on the current stream
};

}  // namespace ringside::resolvers::external
