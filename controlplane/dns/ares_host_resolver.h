// AresHostResolver: the HostResolver on c-ares. One thread runs the c-ares event loop (poll on
// its sockets plus an eventfd that other threads use to hand it names); the c-ares channel is
// touched by that thread only (c-ares 1.18 channels are not thread-safe).
//
// Per name: /etc/hosts first (when enabled), else A and AAAA queries in parallel; answers are
// cached for the smallest record TTL (clamped to [min_ttl, max_ttl]) and refreshed in the
// background when it runs out, for every name that has a positive answer. NXDOMAIN / no
// records are cached for negative_ttl and not refreshed in the background (the next
// addresses() after that asks again). A failed lookup (timeout, refused, SERVFAIL) keeps the
// last answer until max_stale past its TTL and is retried every retry_interval meanwhile.
// One lookup in flight per name.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "controlplane/dns/dns_options.h"
#include "controlplane/dns/host_resolver.h"

namespace ringside::dns {

// What a finished lookup left for a name (reported to answer listeners).
struct HostAnswer {
  std::vector<snapshot::SocketAddress> addresses;  // what addresses() now returns (IPv4 first, ports 0)
  absl::Status status;  // the lookup's outcome: OK, NotFound (NXDOMAIN / no A or AAAA), Unavailable (failed)
  bool changed = false;  // addresses differ from before this lookup
};

class AresHostResolver final : public HostResolver {
 public:
  using AnswerListener = std::function<void(const std::string& host, const HostAnswer& answer)>;

  // Creates the channel and starts the thread. Errors: bad nameserver text, c-ares init failure.
  static absl::StatusOr<std::unique_ptr<AresHostResolver>> create(const DnsOptions& options);
  ~AresHostResolver() override;  // stop()

  AresHostResolver(const AresHostResolver&) = delete;
  AresHostResolver& operator=(const AresHostResolver&) = delete;

  // HostResolver
  std::vector<snapshot::SocketAddress> addresses(std::string_view host) override;
  void set_on_change(std::function<void()> on_change) override;

  // Called on the resolver's thread after every finished lookup of any name (first answers,
  // refreshes, NXDOMAIN, failures), so callers can tell "none found" and "failed" from "not
  // answered yet". Set before the first addresses() call.
  void set_on_answer(AnswerListener listener);
  // Whether `host` has a finished lookup whose result is still valid (positive within TTL +
  // max_stale, negative within negative_ttl); fills `answer` (status and addresses) if so.
  bool cached(std::string_view host, HostAnswer* answer);

  // Lookups sent to the DNS server (A and AAAA count as one), for tests and metrics.
  uint64_t lookups_started() const { return lookups_started_.load(std::memory_order_relaxed); }

  // Joins the thread and destroys the channel; idempotent. No listener runs afterwards.
  void stop();

 private:
  using Clock = std::chrono::steady_clock;
  struct Lookup;  // one name's A + AAAA queries in flight (ares_host_resolver.cc)

  // Cache entry of one name.
  struct Entry {
    std::vector<snapshot::SocketAddress> addresses;  // last good answer (possibly stale), sorted, v4 first
    absl::Status status = absl::UnavailableError("not looked up yet");  // last lookup's outcome
    bool answered = false;             // a lookup finished at least once
    bool positive = false;             // `addresses` came from a positive answer still within max_stale
    bool in_flight = false;            // a lookup is queued or running
    Clock::time_point expires{};       // positive: TTL end; negative: negative_ttl end; failed: next retry
    Clock::time_point stale_until{};   // positive answers are dropped after this when lookups fail
    Clock::time_point last_asked{};    // for eviction beyond max_names
  };

  explicit AresHostResolver(const DnsOptions& options);
  absl::Status init_channel();
  void run();
  void wake();
  // Resolver thread: starts the queued lookups and the background refreshes that are due.
  void start_due_lookups(Clock::time_point now);
  void start_lookup(const std::string& name);
  // c-ares callback of one family's query (ares_callback signature).
  static void on_reply(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
  void on_query_done(Lookup* lookup, int family, int status, const unsigned char* abuf, int alen);
  void finish_lookup(Lookup* lookup);
  Clock::time_point next_due();  // earliest background refresh, or now when names are queued
  // Queues `name` for a lookup unless one is in flight; mu_ held.
  void queue_locked(const std::string& name, Entry* e);
  void evict_if_full_locked();

  const DnsOptions options_;       // timeouts, TTL bounds, nameservers
  void* channel_ = nullptr;        // ares_channel (opaque here to keep ares.h out of the header)
  int wake_fd_ = -1;               // eventfd: queued names, stop()
  std::thread thread_;             // runs the c-ares loop
  std::atomic<bool> stopping_{false};          // set by stop()
  std::atomic<uint64_t> lookups_started_{0};   // see lookups_started()
  std::function<void()> on_change_;            // HostResolver listener (set before use)
  AnswerListener on_answer_;                   // finished-lookup listener (set before use)

  std::mutex mu_;                                  // guards entries_ and queued_
  absl::flat_hash_map<std::string, Entry> entries_;  // name -> cache entry
  std::vector<std::string> queued_;                // names handed to the thread, not yet started
};

// The control plane's host-name binding: an AresHostResolver with `options`.
absl::StatusOr<std::unique_ptr<HostResolver>> make_host_resolver(const DnsOptions& options);

}  // namespace ringside::dns
