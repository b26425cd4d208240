#include "controlplane/resolvers/mdns/mdns_resolver.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ringside::mdns {
namespace {

// Unsolicited announcements after start (RFC 6762 §8.3: at least two, the gap doubling).
constexpr std::chrono::milliseconds kAnnounceOffsets[] = {std::chrono::milliseconds(0), std::chrono::milliseconds(1000),
                                                          std::chrono::milliseconds(3000)};

// "host:port" / "[v6]:port" split; false when there is no port.
bool split_host_port(std::string_view address, std::string* host, int* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view h = address.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  *host = std::string(h);
  const std::string_view p = address.substr(colon + 1);
  return absl::SimpleAtoi(absl::string_view(p.data(), p.size()), port);
}

std::string ip_text(const Ipv4Bytes& a) {
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, a.data(), buf, sizeof(buf));
  return buf;
}

std::string ip_text(const Ipv6Bytes& a) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, a.data(), buf, sizeof(buf));
  return buf;
}

// "ip:port", brackets around IPv6 (the form snapshot::make_instance reads).
std::string address_text(const std::string& ip, uint16_t port, bool ipv6) {
  return ipv6 ? absl::StrCat("[", ip, "]:", port) : absl::StrCat(ip, ":", port);
}

std::string machine_host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

// RFC 6762 §6.7: a query from a port other than 5353 is a legacy unicast query; the reply goes
// back to it as plain DNS: same id, the question repeated, no cache-flush bits, TTL at most 10.
DnsMessage as_legacy_unicast_reply(DnsMessage resp, const DnsMessage& query) {
  resp.id = query.id;
  resp.questions = query.questions;
  for (auto* section : {&resp.answers, &resp.additionals})
    for (ResourceRecord& rr : *section) {
      rr.rrclass = static_cast<uint16_t>(rr.rrclass & ~kTopClassBit);
      rr.ttl = std::min<uint32_t>(rr.ttl, 10);
    }
  return resp;
}

}  // namespace

MdnsResolver::MdnsResolver(MdnsOptions options, MdnsTimings timings)
    : options_(std::move(options)), timings_(timings) {}

MdnsResolver::~MdnsResolver() { stop(); }

absl::Status MdnsResolver::start(const resolvers::SelfRegistration& self, resolvers::InstanceSink* sink) {
  if (self.app_id.empty()) return absl::InvalidArgumentError("mdns: the app id is empty");
  std::string host;
  int port = 0;
  if (!split_host_port(self.address, &host, &port))
    return absl::InvalidArgumentError(absl::StrCat("mdns: announced address \"", self.address, "\" is not host:port"));
  if (self.internal_port > 0) port = self.internal_port;
  if (port <= 0 || port > 65535) return absl::InvalidArgumentError("mdns: the internal gRPC port is missing");

  ServiceAnnouncement a;
  a.service = service_name_for(self.app_id);
  const std::string host_label =
      !options_.host_name.empty() ? options_.host_name : (!self.host_name.empty() ? self.host_name : machine_host_name());
  // As zeroconf: "<host>.local." for the host, "<host>:<pid>" for the instance label.
  a.host = DnsName::from_dotted(host_label);
  if (!a.host.ends_with(DnsName::from_dotted("local"))) a.host.labels.push_back("local");
  a.instance = a.service.with_prefix_label(absl::StrCat(host_label, ":", getpid()));
  a.port = static_cast<uint16_t>(port);
  a.txt = {self.app_id};
  Ipv4Bytes v4;
  Ipv6Bytes v6;
  if (inet_pton(AF_INET, host.c_str(), v4.data()) == 1) {
    a.ipv4.push_back(v4);
  } else if (inet_pton(AF_INET6, host.c_str(), v6.data()) == 1) {
    a.ipv6.push_back(v6);
  } else {
    // zeroconf's RegisterProxy refuses host names too ("Failed to parse given IP").
    return absl::InvalidArgumentError(absl::StrCat("mdns: announced host \"", host,
                                                   "\" is not an IP address (set DAPR_HOST_IP to one)"));
  }
  // Validate names now, so a bad host name fails start-up rather than every announcement.
  if (absl::StatusOr<std::vector<uint8_t>> probe = build_message(announcement_message(a, kServiceTtlSeconds)); !probe.ok())
    return absl::InvalidArgumentError(absl::StrCat("mdns: cannot announce ", a.instance.to_string(), ": ",
                                                   probe.status().message()));
  announcement_ = std::move(a);

  // ADR 0001: a loopback address is announced for sidecars on this host only, so it stays on
  // the loopback interface (unless the user picked interfaces).
  const bool loopback = (!announcement_.ipv4.empty() && announcement_.ipv4[0][0] == 127) ||
                        (!announcement_.ipv6.empty() && announcement_.ipv6[0] == Ipv6Bytes{0, 0, 0, 0, 0, 0, 0, 0,
                                                                                           0, 0, 0, 0, 0, 0, 0, 1});
  absl::StatusOr<std::vector<NetInterface>> ifaces =
      select_interfaces(options_.interfaces, loopback, "spec.nameResolution.configuration.interfaces");
  if (!ifaces.ok()) return ifaces.status();
  if (absl::Status s = sockets_.open(*std::move(ifaces)); !s.ok()) return s;
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    sockets_.close();
    return absl::InternalError(absl::StrCat("mdns: eventfd: ", std::strerror(errno)));
  }
  sink_ = sink;
  stopping_.store(false);
  const Clock::time_point now = Clock::now();
  for (std::chrono::milliseconds offset : kAnnounceOffsets) announce_at_.push_back(now + offset);
  next_refresh_at_ = now + timings_.refresh_interval;
  thread_ = std::thread([this] { run(); });
  return absl::OkStatus();
}

void MdnsResolver::lookup(std::string_view app_id, std::string_view /*ns: mdns ignores namespaces*/) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.emplace_back(app_id);
  }
  wake();
}

void MdnsResolver::wake() {
  if (wake_fd_ < 0) return;
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
}

void MdnsResolver::stop() {
  if (thread_.joinable()) {
    stopping_.store(true);
    wake();
    thread_.join();  // the thread sends the goodbye before it returns
  }
  sockets_.close();
  if (wake_fd_ >= 0) ::close(wake_fd_);
  wake_fd_ = -1;
  sink_ = nullptr;
}

absl::Status MdnsResolver::set_serving(bool serving) {
  if (serving_.exchange(serving) == serving) return absl::OkStatus();
  serving_changed_.store(true);
  wake();
  return absl::OkStatus();
}

void MdnsResolver::send(const DnsMessage& msg, int interface_index) {
  absl::StatusOr<std::vector<uint8_t>> bytes = build_message(msg);
  if (bytes.ok()) sockets_.send_multicast(*bytes, interface_index);
}

void MdnsResolver::run() {
  std::vector<uint8_t> buf(kMaxMessageBytes + 1);
  while (!stopping_.load()) {
    Clock::time_point now = Clock::now();
    take_requests(now);
    const Clock::time_point next = run_timers(now);
    now = Clock::now();
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
    pollfd fds[3] = {{wake_fd_, POLLIN, 0}, {sockets_.ipv4_fd(), POLLIN, 0}, {sockets_.ipv6_fd(), POLLIN, 0}};
    const int n = poll(fds, sockets_.ipv6_fd() >= 0 ? 3 : 2, static_cast<int>(std::clamp<int64_t>(wait, 0, 1000)));
    if (n <= 0) continue;
    if (fds[0].revents & POLLIN) {
      uint64_t v;
      (void)!read(wake_fd_, &v, sizeof(v));
    }
    for (int i = 1; i < 3; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & POLLIN) == 0) continue;
      // Drain what is queued, bounded so a flood cannot starve the timers.
      for (int k = 0; k < 64; ++k) {
        Datagram d;
        if (!sockets_.receive(fds[i].fd, buf, &d)) {
          if (d.size == 0) break;
          continue;
        }
        on_packet(std::span<const uint8_t>(buf.data(), d.size), d, Clock::now());
      }
    }
  }
  // Goodbye (RFC 6762 §10.1): TTL 0 tells every cache to drop us now (already sent when our
  // app is unhealthy, issue 10).
  if (serving_.load()) send(announcement_message(announcement_, 0));
}

void MdnsResolver::take_requests(Clock::time_point now) {
  std::vector<std::string> asked;
  {
    std::lock_guard<std::mutex> lock(mu_);
    asked.swap(requests_);
  }
  for (const std::string& app : asked) {
    if (!cache_.current(app).empty()) {
      publish(app, /*force=*/true);  // the control plane asked, so it wants an answer even if unchanged
    } else if (auto it = browses_.find(app); it != browses_.end()) {
      // A browse is running; make sure it answers, within the first-browse window.
      if (!it->second.answer_by) it->second.answer_by = now + timings_.first_browse;
      published_.erase(app);
    } else {
      published_.erase(app);
      start_browse(app, /*first=*/true, now);
    }
  }
}

void MdnsResolver::start_browse(const std::string& app_id, bool first, Clock::time_point now) {
  Browse b;
  b.records = std::make_unique<BrowseCollector>(service_name_for(app_id));
  b.ends_at = now + timings_.refresh_browse;
  b.next_query_at = now;
  if (first) b.answer_by = now + timings_.first_browse;
  browses_[app_id] = std::move(b);
}

MdnsResolver::Clock::time_point MdnsResolver::run_timers(Clock::time_point now) {
  Clock::time_point next = now + std::chrono::seconds(1);
  if (serving_changed_.exchange(false)) {  // issue 10: our app's health changed
    announce_at_.clear();
    if (serving_.load()) {
      for (std::chrono::milliseconds offset : kAnnounceOffsets) announce_at_.push_back(now + offset);
    } else {
      send(announcement_message(announcement_, 0));  // goodbye: caches drop us at once
    }
  }
  while (!announce_at_.empty() && announce_at_.front() <= now) {
    send(announcement_message(announcement_, kServiceTtlSeconds));
    announce_at_.erase(announce_at_.begin());
  }
  if (!announce_at_.empty()) next = std::min(next, announce_at_.front());

  for (auto it = browses_.begin(); it != browses_.end();) {
    Browse& b = it->second;
    if (b.answer_by && *b.answer_by <= now) {
      publish(it->first, /*force=*/true);  // whatever we have, possibly "none found"
      b.answer_by.reset();
    }
    if (b.ends_at <= now) {
      browses_.erase(it++);
      continue;
    }
    if (b.next_query_at <= now) {
      send(browse_query(b.records->service()));
      b.next_query_at = now + timings_.requery_after;
    }
    next = std::min({next, b.ends_at, b.next_query_at});
    if (b.answer_by) next = std::min(next, *b.answer_by);
    ++it;
  }

  for (const std::string& app : cache_.expire(now)) publish(app, /*force=*/false);
  if (next_refresh_at_ <= now) {
    for (const std::string& app : cache_.app_ids())
      if (!browses_.contains(app)) start_browse(app, /*first=*/false, now);
    next_refresh_at_ = now + timings_.refresh_interval;
    next = now;  // send the refresh queries right away
  }
  return std::min(next, next_refresh_at_);
}

void MdnsResolver::on_packet(std::span<const uint8_t> packet, const Datagram& from, Clock::time_point now) {
  absl::StatusOr<DnsMessage> msg = parse_message(packet);
  if (!msg.ok()) return;  // not ours to judge: other stacks' oddities are simply ignored
  if (!msg->is_response()) {
    answer_query(*msg, from);
    return;
  }
  // Responses during a browse feed it; any other response still updates app ids we cache
  // (announcements of new instances, goodbyes of leaving ones).
  for (auto& [app, b] : browses_) {
    b.records->add(*msg);
    take_instances(app, *b.records, now);
  }
  for (const std::string& app : cache_.app_ids()) {
    if (browses_.contains(app)) continue;
    BrowseCollector one(service_name_for(app));
    one.add(*msg);
    take_instances(app, one, now);
  }
}

void MdnsResolver::answer_query(const DnsMessage& query, const Datagram& from) {
  if (!serving_.load()) return;  // issue 10: withdrawn while our app is unhealthy
  std::optional<DnsMessage> resp = answer_for(announcement_, query);
  if (!resp) return;
  if (from.from_port() != kMdnsPort) {
    absl::StatusOr<std::vector<uint8_t>> bytes = build_message(as_legacy_unicast_reply(*std::move(resp), query));
    if (bytes.ok()) sockets_.send_unicast(*bytes, from);
    return;
  }
  const bool unicast = std::all_of(query.questions.begin(), query.questions.end(),
                                   [](const Question& q) { return q.unicast_response(); });
  absl::StatusOr<std::vector<uint8_t>> bytes = build_message(*resp);
  if (!bytes.ok()) return;
  if (unicast) {
    sockets_.send_unicast(*bytes, from);
  } else {
    sockets_.send_multicast(*bytes, from.interface_index);
  }
}

void MdnsResolver::take_instances(const std::string& app_id, const BrowseCollector& records, Clock::time_point now) {
  bool changed = false;
  for (const BrowsedInstance& i : records.instances()) {
    // daprd accepts an entry only when its TXT strings equal the app id (it stops at the
    // first one that differs), and uses the first IPv4 and the first IPv6 address.
    if (i.txt.empty() || i.txt.front() != app_id) continue;
    std::vector<std::pair<std::string, bool>> addresses;  // (ip:port, is IPv6)
    if (!i.ipv4.empty()) addresses.emplace_back(address_text(ip_text(i.ipv4.front()), i.port, false), false);
    if (!i.ipv6.empty()) addresses.emplace_back(address_text(ip_text(i.ipv6.front()), i.port, true), true);
    for (const auto& [address, ipv6] : addresses) {
      if (i.goodbye) {
        cache_.remove(app_id, address);
      } else {
        cache_.add(app_id, address, ipv6, now);
      }
      changed = true;
    }
  }
  if (!changed) return;
  auto it = browses_.find(app_id);
  const bool awaiting_first = it != browses_.end() && it->second.answer_by.has_value();
  if (awaiting_first && !cache_.current(app_id).empty()) it->second.answer_by.reset();
  // While the first browse still waits, an empty list is not an answer yet.
  if (awaiting_first && cache_.current(app_id).empty()) return;
  publish(app_id, awaiting_first);
}

void MdnsResolver::publish(const std::string& app_id, bool force) {
  std::vector<std::string> now = cache_.current(app_id);
  auto it = published_.find(app_id);
  if (!force && it != published_.end() && it->second == now) return;
  std::vector<snapshot::Instance> instances;
  for (const std::string& address : now) {
    absl::StatusOr<snapshot::Instance> inst = snapshot::make_instance(app_id, "", address);
    if (inst.ok()) instances.push_back(*std::move(inst));
  }
  published_[app_id] = std::move(now);
  if (sink_ != nullptr) sink_->publish_app(app_id, "", std::move(instances));
}

absl::StatusOr<std::unique_ptr<resolvers::Resolver>> make_mdns_resolver(std::string_view configuration_yaml) {
  absl::StatusOr<MdnsOptions> options = parse_mdns_options(configuration_yaml);
  if (!options.ok()) return options.status();
  return std::unique_ptr<resolvers::Resolver>(new MdnsResolver(*std::move(options)));
}

}  // namespace ringside::mdns
