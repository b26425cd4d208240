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
//   with a FULL;
// - a FULL of a new epoch comes from a synchronizer that (re)started and may not have heard from
//   every peer cluster yet: instances of clusters it does not mention are carried over from the
//   previous table for `carry_over` (or until the new synchronizer lists that cluster), so a
//   restarting synchronizer does not empty the sidecars' view of the other clusters. This is
//   the same grace the synchronizers give a peer whose Export stream ended (exportTtl).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "controlplane/snapshot/instance.h"
#include "ringside/sync/v1/sync.pb.h"

namespace ringside::resolvers::external {

class ExternalTable {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ExternalTable(std::chrono::milliseconds carry_over = std::chrono::milliseconds(0)) : carry_over_(carry_over) {}

  // Applies one update. *changed says whether the instance set differs afterwards (a FULL equal
  // to what is held, e.g. after a resubscribe, changes nothing). An error leaves the table as it
  // was and means: drop the stream and resubscribe.
  absl::Status apply(const ringside::sync::v1::TableUpdate& update, bool* changed, Clock::time_point now = Clock::now());

  // Drops carried-over instances whose grace ended; true when any was dropped.
  bool expire_carried(Clock::time_point now);
  // When the carried-over instances expire (nullopt = none carried).
  std::optional<Clock::time_point> carried_until() const;
  size_t carried() const { return carried_.size(); }  // instances carried over now

  // The stream ended: keep the instances, expect a FULL first on the next stream.
  void stream_ended() { synced_ = false; }

  // Every instance as the control plane takes it (cluster, weight, health set). Entries whose
  // address is not host:port are left out (*skipped counts them when given).
  std::vector<snapshot::Instance> instances(size_t* skipped = nullptr) const;

  const std::string& epoch() const { return epoch_; }  // of the table held ("" = none yet)
  uint64_t version() const { return version_; }        // within epoch()
  size_t size() const { return entries_.size() + carried_.size(); }  // instances held (carried included)

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

  // Drops carried instances of the clusters `update` upserts (the synchronizer now speaks for them).
  bool drop_carried_clusters(const ringside::sync::v1::TableUpdate& update);

  const std::chrono::milliseconds carry_over_;           // grace of a previous epoch's clusters
  std::map<Key, Attributes> entries_;                    // the table, ordered for stable output
  std::map<Key, Attributes> carried_;                    // previous epoch's clusters the new one lacks
  Clock::time_point carried_until_{};                    // when carried_ expires
  std::string epoch_;                                    // the synchronizer run it came from
  uint64_t version_ = 0;                                 // its version within epoch_
  bool synced_ = false;                                  // a FULL arrived on the current stream
};

}  // namespace ringside::resolvers::external
