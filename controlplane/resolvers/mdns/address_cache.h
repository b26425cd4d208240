// The mdns resolver's view of other apps, as daprd keeps it: per app id, IPv4 and IPv6
// "ip:port" lists whose entries expire 60 s after they were last seen. IPv4 is preferred: the
// IPv6 list is used only when an app has no IPv4 address (daprd checks its IPv4 cache first).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace ringside::mdns {

class AddressCache {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kTtl{60};  // daprd's addressTTL

  // Adds or refreshes `address` ("ip:port" / "[ip6]:port") of `app_id`.
  void add(const std::string& app_id, const std::string& address, bool ipv6, Clock::time_point now);
  // Drops `address` of `app_id` at once (its instance said goodbye).
  void remove(const std::string& app_id, const std::string& address);
  // Drops entries not seen for kTtl; returns the app ids whose lists changed.
  std::vector<std::string> expire(Clock::time_point now);
  // The addresses to use for `app_id`: IPv4 if any, else IPv6, in order of first sighting.
  std::vector<std::string> current(const std::string& app_id) const;
  // Every app id that has (or had) addresses, for the periodic refresh.
  std::vector<std::string> app_ids() const;
  // Whether `app_id` has an entry (maybe with empty lists).
  bool knows(const std::string& app_id) const { return apps_.contains(app_id); }

 private:
  struct Entry {
    std::string address;           // "ip:port"
    Clock::time_point expires_at;  // last seen + kTtl
  };
  struct Lists {
    std::vector<Entry> ipv4;  // preferred
    std::vector<Entry> ipv6;  // used when ipv4 is empty
  };
  absl::flat_hash_map<std::string, Lists> apps_;  // by app id
};

}  // namespace ringside::mdns
