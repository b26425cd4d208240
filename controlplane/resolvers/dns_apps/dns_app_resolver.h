// DnsAppResolver: a pushing resolver that maps an app id to a DNS name and port (the
// `kubernetes` and `nameformat` resolvers differ only in that mapping), resolves the name with
// the control plane's c-ares client and publishes one instance per address (ip:port).
//
// lookup() starts the query; the answer is published with publish_app (empty on NXDOMAIN or
// when the first lookup fails). Names are re-queried when their TTL runs out for as long as they
// resolve (dns::AresHostResolver refreshes positive answers in the background), and every change
// is published. When the DNS server fails, the last answer keeps serving (report_status says
// why) until dns::DnsOptions::max_stale.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "controlplane/dns/ares_host_resolver.h"
#include "controlplane/dns/dns_options.h"
#include "controlplane/resolvers/resolver.h"

namespace ringside::resolvers {

// Where an app id lives: a DNS name (or an IP literal, published as is) and the port to dial.
struct DnsTarget {
  std::string host;   // DNS name or IP literal (no brackets)
  uint16_t port = 0;  // port of the peer's internal gRPC listener
};

// Builds the target of (app id, namespace); `ns` is never empty (the caller's own namespace is
// filled in). Errors describe the problem (e.g. a template that renders no valid name).
using DnsTargetBuilder =
    std::function<absl::StatusOr<DnsTarget>(std::string_view app_id, std::string_view ns, const SelfRegistration& self)>;

// Splits rendered "host", "host:port" or "[v6]:port" text into a target; a missing port is
// `default_port`. Errors for an empty/invalid host or port.
absl::StatusOr<DnsTarget> dns_target_from_text(std::string_view text, int default_port);

class DnsAppResolver final : public Resolver {
 public:
  DnsAppResolver(std::string component, dns::DnsOptions dns, DnsTargetBuilder target, bool namespace_aware);
  ~DnsAppResolver() override;  // stop()

  absl::Status start(const SelfRegistration& self, InstanceSink* sink) override;
  bool lists() const override { return false; }
  void lookup(std::string_view app_id, std::string_view ns) override;
  void stop() override;
  bool namespace_aware() const override { return namespace_aware_; }

  // DNS lookups sent so far (for tests).
  uint64_t dns_lookups() const { return dns_ ? dns_->lookups_started() : 0; }

 private:
  // One (app id, namespace) the control plane asked for, resolved through `host`.
  struct Watch {
    std::string app_id;        // target app id
    std::string ns_key;        // the namespace as lookup() got it (the key publish_app answers)
    std::string ns;            // the namespace the instances carry ("" when not namespace-aware)
    uint16_t port = 0;         // port of every instance
    bool needs_answer = true;  // lookup() asked and nothing was published since
  };

  void on_answer(const std::string& host, const dns::HostAnswer& answer);
  // Publishes `addresses` for `w`; mu_ held.
  void publish_locked(const Watch& w, const std::vector<snapshot::SocketAddress>& addresses);
  void report_locked(const absl::Status& status);

  const std::string component_;        // "kubernetes" / "nameformat" (log texts)
  const dns::DnsOptions dns_options_;  // nameservers, timeouts, staleness
  const DnsTargetBuilder target_;      // app id -> name and port
  const bool namespace_aware_;         // kubernetes: yes; nameformat: no
  SelfRegistration self_;              // our identity (namespace, internal port)
  InstanceSink* sink_ = nullptr;       // where answers go (valid between start and stop)
  std::unique_ptr<dns::AresHostResolver> dns_;  // the c-ares client and its thread

  std::mutex mu_;                                                // guards the maps and last_status_
  absl::flat_hash_map<std::string, std::vector<Watch>> by_host_;  // DNS name -> apps resolved through it
  std::string last_status_;                                      // last status text reported ("" = OK)
};

}  // namespace ringside::resolvers
