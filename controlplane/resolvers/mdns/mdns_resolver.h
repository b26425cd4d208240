// The `mdns` name resolver, wire-compatible with daprd's (components-contrib
// nameresolution/mdns on grandcat/zeroconf): it announces this sidecar as an instance of the
// DNS-SD service "<appId>.local." and browses that service for the app ids the data plane asks
// for. It is a pushing resolver: lookup() starts a browse and the answer arrives through
// InstanceSink::publish_app. All network work runs on the resolver's own thread (poll).
//
// Timing follows daprd: the first browse for an app id waits at most 1 s for an answer
// (none = "none found"), the answer is published as soon as the first instance arrives and the
// browse goes on for 3 s to collect more; addresses live 60 s after they were last seen and
// every app id in the cache is browsed again (3 s) every 30 s. Instances that send a goodbye
// are dropped at once (daprd keeps them until they expire).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "controlplane/resolvers/mdns/address_cache.h"
#include "controlplane/resolvers/mdns/dns_sd_records.h"
#include "controlplane/resolvers/mdns/mdns_options.h"
#include "controlplane/resolvers/mdns/multicast_sockets.h"
#include "controlplane/resolvers/resolver.h"

namespace ringside::mdns {

// daprd's timings (components-contrib nameresolution/mdns/mdns.go).
struct MdnsTimings {
  std::chrono::milliseconds first_browse{1000};     // browseOneTimeout
  std::chrono::milliseconds refresh_browse{3000};   // refreshTimeout
  std::chrono::milliseconds refresh_interval{30000};  // refreshInterval
  std::chrono::milliseconds requery_after{1000};    // a browse still running repeats its query
};

class MdnsResolver final : public resolvers::Resolver {
 public:
  explicit MdnsResolver(MdnsOptions options, MdnsTimings timings = {});
  ~MdnsResolver() override;  // stop()

  absl::Status start(const resolvers::SelfRegistration& self, resolvers::InstanceSink* sink) override;
  bool lists() const override { return false; }
  void lookup(std::string_view app_id, std::string_view ns) override;
  void stop() override;
  bool namespace_aware() const override { return false; }
  // Issue 10, app health: false sends a goodbye (TTL 0, so every cache drops us at once) and
  // stops answering queries for our service; true announces us again (daprd's announcement
  // schedule). Any thread; the resolver thread does the sending.
  absl::Status set_serving(bool serving) override;

  // What we announce (for tests and logs); valid after start().
  const ServiceAnnouncement& announcement() const { return announcement_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Browse {
    std::unique_ptr<BrowseCollector> records;  // everything heard for the service so far
    Clock::time_point ends_at;                 // the browse stops listening
    Clock::time_point next_query_at;           // when to send the query again
    std::optional<Clock::time_point> answer_by;  // first browse: publish "none found" then
  };

  void run();
  void wake();
  void take_requests(Clock::time_point now);
  void start_browse(const std::string& app_id, bool first, Clock::time_point now);
  void on_packet(std::span<const uint8_t> packet, const Datagram& from, Clock::time_point now);
  void answer_query(const DnsMessage& query, const Datagram& from);
  void take_instances(const std::string& app_id, const BrowseCollector& records, Clock::time_point now);
  void publish(const std::string& app_id, bool force);
  void send(const DnsMessage& msg, int interface_index = 0);
  Clock::time_point run_timers(Clock::time_point now);

  MdnsOptions options_;                 // parsed configuration
  MdnsTimings timings_;                 // daprd's constants (shorter in tests)
  resolvers::InstanceSink* sink_ = nullptr;  // where answers go (valid until stop() returns)
  ServiceAnnouncement announcement_;    // our records
  MulticastSockets sockets_;            // port 5353, both families
  int wake_fd_ = -1;                    // eventfd: lookup()/stop() wake the thread
  std::thread thread_;                  // runs run()
  std::atomic<bool> stopping_{false};   // stop() was called
  std::atomic<bool> serving_{true};     // issue 10: announce and answer for our service
  std::atomic<bool> serving_changed_{false};  // issue 10: set_serving() changed it; the thread acts

  std::mutex mu_;                       // guards requests_
  std::vector<std::string> requests_;   // app ids lookup() asked for, not yet taken

  // Resolver thread only:
  absl::flat_hash_map<std::string, Browse> browses_;          // running browses by app id
  AddressCache cache_;                                         // addresses by app id
  absl::flat_hash_map<std::string, std::vector<std::string>> published_;  // last list published per app id
  Clock::time_point next_refresh_at_;                          // periodic refresh of cached app ids
  std::vector<Clock::time_point> announce_at_;                 // pending unsolicited announcements
};

// The resolver for `spec.nameResolution.configuration` YAML text; errors name the path.
absl::StatusOr<std::unique_ptr<resolvers::Resolver>> make_mdns_resolver(std::string_view configuration_yaml);

}  // namespace ringside::mdns
