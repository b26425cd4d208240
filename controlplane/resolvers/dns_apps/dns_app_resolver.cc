#include "controlplane/resolvers/dns_apps/dns_app_resolver.h"

#include <arpa/inet.h>

#include "absl/strings/str_cat.h"
#include "controlplane/config/string_view_compat.h"
#include "controlplane/snapshot/socket_address.h"

namespace ringside::resolvers {

namespace {

// Letters, digits, '-', '_' and '.', as DNS names (and service names with '_') use.
bool valid_dns_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string quoted(std::string_view s) { return absl::StrCat("\"", config::to_absl(s), "\""); }

}  // namespace

absl::StatusOr<DnsTarget> dns_target_from_text(std::string_view text, int default_port) {
  std::string_view host;
  uint16_t port = 0;
  DnsTarget t;
  if (snapshot::split_host_port(text, &host, &port)) {
    t.host = std::string(host);
    t.port = port;
  } else if (text.find(':') == std::string_view::npos) {
    if (default_port < 1 || default_port > 65535)
      return absl::InvalidArgumentError(absl::StrCat(quoted(text), " has no port and ours is unknown"));
    t.host = std::string(text);
    t.port = static_cast<uint16_t>(default_port);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(quoted(text), " is not host, host:port or [IPv6]:port (port 1..65535)"));
  }
  snapshot::SocketAddress literal;
  if (!snapshot::parse_ip_literal(t.host, t.port, &literal) && !valid_dns_name(t.host))
    return absl::InvalidArgumentError(absl::StrCat(quoted(text), ": ", quoted(t.host), " is not a valid DNS name"));
  return t;
}

DnsAppResolver::DnsAppResolver(std::string component, dns::DnsOptions dns, DnsTargetBuilder target,
                               bool namespace_aware)
    : component_(std::move(component)),
      dns_options_(std::move(dns)),
      target_(std::move(target)),
      namespace_aware_(namespace_aware) {}

DnsAppResolver::~DnsAppResolver() { stop(); }

absl::Status DnsAppResolver::start(const SelfRegistration& self, InstanceSink* sink) {
  self_ = self;
  sink_ = sink;
  absl::StatusOr<std::unique_ptr<dns::AresHostResolver>> dns = dns::AresHostResolver::create(dns_options_);
  if (!dns.ok()) return absl::Status(dns.status().code(), absl::StrCat(component_, ": ", dns.status().message()));
  dns_ = *std::move(dns);
  dns_->set_on_answer([this](const std::string& host, const dns::HostAnswer& answer) { on_answer(host, answer); });
  return absl::OkStatus();
}

void DnsAppResolver::stop() {
  if (dns_) dns_->stop();  // joins the DNS thread: no on_answer runs after this
}

void DnsAppResolver::report_locked(const absl::Status& status) {
  std::string text = status.ok() ? std::string() : std::string(status.message());
  if (text == last_status_) return;
  last_status_ = text;
  if (sink_) sink_->report_status(status.ok() ? status : absl::Status(status.code(), absl::StrCat(component_, ": ", text)));
}

void DnsAppResolver::publish_locked(const Watch& w, const std::vector<snapshot::SocketAddress>& addresses) {
  std::vector<snapshot::Instance> instances;
  instances.reserve(addresses.size());
  for (snapshot::SocketAddress a : addresses) {
    a.port_be = htons(w.port);
    absl::StatusOr<snapshot::Instance> inst = snapshot::make_instance(w.app_id, w.ns, a.to_string());
    if (inst.ok()) instances.push_back(*std::move(inst));
  }
  if (sink_) sink_->publish_app(w.app_id, w.ns_key, std::move(instances));
}

void DnsAppResolver::lookup(std::string_view app_id, std::string_view ns) {
  if (!sink_ || !dns_) return;
  const std::string effective_ns = ns.empty() ? self_.app_namespace : std::string(ns);
  absl::StatusOr<DnsTarget> target = target_(app_id, effective_ns, self_);
  std::lock_guard<std::mutex> lock(mu_);
  if (!target.ok()) {
    report_locked(absl::InvalidArgumentError(absl::StrCat("app id ", quoted(app_id), ": ", target.status().message())));
    sink_->publish_app(std::string(app_id), std::string(ns), {});
    return;
  }
  Watch w{std::string(app_id), std::string(ns), namespace_aware_ ? effective_ns : std::string(), target->port, true};
  snapshot::SocketAddress literal;
  if (snapshot::parse_ip_literal(target->host, target->port, &literal)) {
    publish_locked(w, {literal});  // nothing to resolve
    return;
  }
  // Register before asking, so an answer racing this call is not missed.
  std::vector<Watch>& watches = by_host_[target->host];
  Watch* watch = nullptr;
  for (Watch& existing : watches) {
    if (existing.app_id == w.app_id && existing.ns_key == w.ns_key) watch = &existing;
  }
  if (!watch) {
    watches.push_back(w);
    watch = &watches.back();
  }
  watch->needs_answer = true;
  dns::HostAnswer answer;
  if (dns_->cached(target->host, &answer)) {
    publish_locked(*watch, answer.addresses);
    watch->needs_answer = false;
    return;
  }
  (void)dns_->addresses(target->host);  // starts the lookup; on_answer publishes
}

void DnsAppResolver::on_answer(const std::string& host, const dns::HostAnswer& answer) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_host_.find(host);
  if (it == by_host_.end()) return;
  if (answer.status.ok() || absl::IsNotFound(answer.status)) {
    report_locked(absl::OkStatus());
  } else {
    report_locked(answer.status);
  }
  for (Watch& w : it->second) {
    // Failures that keep the last answer change nothing; a first failure answers "none" so
    // parked calls fail at once instead of waiting out the control plane's lookup timeout.
    if (!answer.changed && !w.needs_answer) continue;
    publish_locked(w, answer.addresses);
    w.needs_answer = false;
  }
}

}  // namespace ringside::resolvers
