#include "controlplane/dns/ares_host_resolver.h"

#include <ares.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "controlplane/config/string_view_compat.h"

namespace ringside::dns {

namespace {

constexpr int kClassIn = 1;     // DNS class IN
constexpr int kTypeA = 1;       // A record
constexpr int kTypeAaaa = 28;   // AAAA record
constexpr int kMaxRecords = 256;  // records read per answer (a DNS answer this large is already TCP)

ares_channel as_channel(void* c) { return static_cast<ares_channel>(c); }

// What one family's query ended in.
enum class Outcome { kRecords, kNone, kFailed };

Outcome classify(int status) {
  if (status == ARES_SUCCESS) return Outcome::kRecords;
  if (status == ARES_ENODATA || status == ARES_ENOTFOUND) return Outcome::kNone;
  return Outcome::kFailed;
}

bool address_less(const snapshot::SocketAddress& a, const snapshot::SocketAddress& b) {
  if (a.family != b.family) return a.family == AF_INET;  // IPv4 first
  return std::memcmp(a.ip, b.ip, sizeof a.ip) < 0;
}

// Sorted (IPv4 first) and without duplicates, so equal answers compare equal whatever order the
// server rotated the records into.
void canonicalize(std::vector<snapshot::SocketAddress>* v) {
  std::sort(v->begin(), v->end(), address_less);
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

snapshot::SocketAddress v4_address(const in_addr& a) {
  snapshot::SocketAddress out;
  out.family = AF_INET;
  std::memcpy(out.ip, &a, 4);
  return out;
}

snapshot::SocketAddress v6_address(const void* bytes16) {
  snapshot::SocketAddress out;
  out.family = AF_INET6;
  std::memcpy(out.ip, bytes16, 16);
  return out;
}

void ares_library_once() {
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

}  // namespace

// One name's A and AAAA queries; owned by the c-ares callbacks until both have run.
struct AresHostResolver::Lookup {
  // The callback argument of one family's query.
  struct Half {
    Lookup* lookup = nullptr;  // back pointer
    int family = 0;            // AF_INET (A) or AF_INET6 (AAAA)
  };
  AresHostResolver* self = nullptr;                // owner
  std::string name;                                // the host name asked
  Half a{this, AF_INET};                           // the A query's callback argument
  Half aaaa{this, AF_INET6};                       // the AAAA query's callback argument
  int pending = 2;                                 // queries not yet answered
  std::vector<snapshot::SocketAddress> addresses;  // records from both answers
  int ttl = INT_MAX;                               // smallest record TTL seen (seconds)
  Outcome outcome_a = Outcome::kFailed;            // A query's end
  Outcome outcome_aaaa = Outcome::kFailed;         // AAAA query's end
  std::string error;                               // c-ares error texts of failed queries
  bool from_hosts_file = false;                    // answered from /etc/hosts (TTL = hosts_file_ttl)
};

AresHostResolver::AresHostResolver(const DnsOptions& options) : options_(options) {}

absl::StatusOr<std::unique_ptr<AresHostResolver>> AresHostResolver::create(const DnsOptions& options) {
  std::unique_ptr<AresHostResolver> r(new AresHostResolver(options));
  if (absl::Status s = r->init_channel(); !s.ok()) return s;
  r->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (r->wake_fd_ < 0) return absl::InternalError("dns: cannot create eventfd");
  r->thread_ = std::thread([p = r.get()] { p->run(); });
  return r;
}

absl::Status AresHostResolver::init_channel() {
  ares_library_once();
  std::vector<NameserverAddress> servers;
  for (const std::string& text : options_.nameservers) {
    absl::StatusOr<NameserverAddress> a = parse_nameserver(text);
    if (!a.ok()) return absl::InvalidArgumentError(absl::StrCat("dns: nameserver ", a.status().message()));
    servers.push_back(*a);
  }
  ares_options opts{};
  int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  opts.timeout = static_cast<int>(options_.timeout.count());
  opts.tries = options_.tries;
  if (!servers.empty()) {
    // Explicit servers: names are asked as given. The system's search domains belong to the
    // system's servers, and a server that refuses foreign names would end a search early.
    mask |= ARES_OPT_DOMAINS;
    opts.domains = nullptr;
    opts.ndomains = 0;
  }
  ares_channel channel = nullptr;
  int rc = ares_init_options(&channel, &opts, mask);
  if (rc != ARES_SUCCESS) return absl::InternalError(absl::StrCat("dns: c-ares init failed: ", ares_strerror(rc)));
  channel_ = channel;
  if (servers.empty()) return absl::OkStatus();

  std::vector<ares_addr_port_node> nodes(servers.size());
  for (size_t i = 0; i < servers.size(); ++i) {
    ares_addr_port_node& n = nodes[i];
    n.next = i + 1 < servers.size() ? &nodes[i + 1] : nullptr;
    n.family = servers[i].family;
    if (n.family == AF_INET) {
      std::memcpy(&n.addr.addr4, servers[i].ip, 4);
    } else {
      std::memcpy(&n.addr.addr6, servers[i].ip, 16);
    }
    n.udp_port = servers[i].port;
    n.tcp_port = servers[i].port;
  }
  rc = ares_set_servers_ports(channel, nodes.data());
  if (rc != ARES_SUCCESS) return absl::InternalError(absl::StrCat("dns: cannot set nameservers: ", ares_strerror(rc)));
  return absl::OkStatus();
}

AresHostResolver::~AresHostResolver() {
  stop();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void AresHostResolver::stop() {
  if (stopping_.exchange(true)) return;
  if (wake_fd_ >= 0) wake();
  if (thread_.joinable()) thread_.join();
  // Runs every pending callback with ARES_EDESTRUCTION; they only free their Lookup.
  if (channel_) ares_destroy(as_channel(channel_));
  channel_ = nullptr;
}

void AresHostResolver::set_on_change(std::function<void()> on_change) { on_change_ = std::move(on_change); }
void AresHostResolver::set_on_answer(AnswerListener listener) { on_answer_ = std::move(listener); }

void AresHostResolver::wake() {
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
}

void AresHostResolver::evict_if_full_locked() {
  if (entries_.size() < options_.max_names) return;
  auto victim = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->second.in_flight) continue;
    if (victim == entries_.end() || it->second.last_asked < victim->second.last_asked) victim = it;
  }
  if (victim != entries_.end()) entries_.erase(victim);
}

void AresHostResolver::queue_locked(const std::string& name, Entry* e) {
  if (e->in_flight) return;
  e->in_flight = true;
  queued_.push_back(name);
}

std::vector<snapshot::SocketAddress> AresHostResolver::addresses(std::string_view host) {
  const Clock::time_point now = Clock::now();
  bool queued = false;
  std::vector<snapshot::SocketAddress> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(config::to_absl(host));
    if (it == entries_.end()) {
      evict_if_full_locked();
      it = entries_.emplace(std::string(host), Entry{}).first;
    }
    Entry& e = it->second;
    e.last_asked = now;
    if (!e.in_flight && (!e.answered || now >= e.expires)) {
      queue_locked(it->first, &e);
      queued = true;
    }
    out = e.addresses;
  }
  if (queued) wake();
  return out;
}

bool AresHostResolver::cached(std::string_view host, HostAnswer* answer) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(config::to_absl(host));
  if (it == entries_.end() || !it->second.answered) return false;
  const Entry& e = it->second;
  if (!e.positive && Clock::now() >= e.expires) return false;
  answer->addresses = e.addresses;
  answer->status = e.status;
  answer->changed = false;
  return true;
}

AresHostResolver::Clock::time_point AresHostResolver::next_due() {
  Clock::time_point due = Clock::time_point::max();
  std::lock_guard<std::mutex> lock(mu_);
  if (!queued_.empty()) return Clock::now();
  for (const auto& [name, e] : entries_) {
    if (e.positive && !e.in_flight) due = std::min(due, e.expires);
  }
  return due;
}

void AresHostResolver::start_due_lookups(Clock::time_point now) {
  std::vector<std::string> names;
  {
    std::lock_guard<std::mutex> lock(mu_);
    names.swap(queued_);
    // Background refresh: positive answers whose TTL ran out (and failed refreshes of them,
    // whose `expires` is the next retry).
    for (auto& [name, e] : entries_) {
      if (e.positive && !e.in_flight && now >= e.expires) {
        e.in_flight = true;
        names.push_back(name);
      }
    }
  }
  for (const std::string& name : names) start_lookup(name);
}

void AresHostResolver::start_lookup(const std::string& name) {
  auto* lookup = new Lookup;
  lookup->self = this;
  lookup->name = name;
  if (options_.use_hosts_file) {
    // /etc/hosts spells names without the root's trailing dot.
    const std::string hosts_name = !name.empty() && name.back() == '.' ? name.substr(0, name.size() - 1) : name;
    for (int family : {AF_INET, AF_INET6}) {
      hostent* h = nullptr;
      if (ares_gethostbyname_file(as_channel(channel_), hosts_name.c_str(), family, &h) != ARES_SUCCESS || !h) continue;
      for (char** p = h->h_addr_list; p && *p; ++p) {
        if (h->h_addrtype == AF_INET) {
          in_addr a;
          std::memcpy(&a, *p, 4);
          lookup->addresses.push_back(v4_address(a));
        } else if (h->h_addrtype == AF_INET6) {
          lookup->addresses.push_back(v6_address(*p));
        }
      }
      ares_free_hostent(h);
    }
    if (!lookup->addresses.empty()) {
      lookup->from_hosts_file = true;
      lookup->outcome_a = lookup->outcome_aaaa = Outcome::kRecords;
      lookup->pending = 0;
      finish_lookup(lookup);
      return;
    }
  }
  lookups_started_.fetch_add(1, std::memory_order_relaxed);
  // ares_search may call back synchronously (e.g. a bad name): `pending` is set before either.
  ares_search(as_channel(channel_), name.c_str(), kClassIn, kTypeA, on_reply, &lookup->a);
  ares_search(as_channel(channel_), name.c_str(), kClassIn, kTypeAaaa, on_reply, &lookup->aaaa);
}

void AresHostResolver::on_reply(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  auto* half = static_cast<Lookup::Half*>(arg);
  half->lookup->self->on_query_done(half->lookup, half->family, status, abuf, alen);
}

void AresHostResolver::on_query_done(Lookup* lookup, int family, int status, const unsigned char* abuf, int alen) {
  Outcome outcome = classify(status);
  if (outcome == Outcome::kRecords) {
    int n = kMaxRecords;
    int rc;
    if (family == AF_INET) {
      ares_addrttl ttls[kMaxRecords];
      rc = ares_parse_a_reply(abuf, alen, nullptr, ttls, &n);
      if (rc == ARES_SUCCESS) {
        for (int i = 0; i < n; ++i) {
          lookup->addresses.push_back(v4_address(ttls[i].ipaddr));
          lookup->ttl = std::min(lookup->ttl, ttls[i].ttl);
        }
      }
    } else {
      ares_addr6ttl ttls[kMaxRecords];
      rc = ares_parse_aaaa_reply(abuf, alen, nullptr, ttls, &n);
      if (rc == ARES_SUCCESS) {
        for (int i = 0; i < n; ++i) {
          lookup->addresses.push_back(v6_address(&ttls[i].ip6addr));
          lookup->ttl = std::min(lookup->ttl, ttls[i].ttl);
        }
      }
    }
    if (rc == ARES_SUCCESS && n == 0) outcome = Outcome::kNone;
    if (rc != ARES_SUCCESS) outcome = classify(rc);
    status = rc;
  }
  if (outcome == Outcome::kFailed) {
    if (!lookup->error.empty()) lookup->error += ", ";
    absl::StrAppend(&lookup->error, family == AF_INET ? "A: " : "AAAA: ", ares_strerror(status));
  }
  (family == AF_INET ? lookup->outcome_a : lookup->outcome_aaaa) = outcome;
  if (--lookup->pending > 0) return;
  if (status == ARES_EDESTRUCTION || stopping_.load(std::memory_order_acquire)) {
    delete lookup;  // the channel is going away: nobody listens any more
    return;
  }
  finish_lookup(lookup);
}

void AresHostResolver::finish_lookup(Lookup* lookup) {
  std::unique_ptr<Lookup> owned(lookup);
  const Clock::time_point now = Clock::now();
  const bool failed = lookup->outcome_a == Outcome::kFailed || lookup->outcome_aaaa == Outcome::kFailed;
  canonicalize(&lookup->addresses);

  HostAnswer answer;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(lookup->name);
    if (it == entries_.end()) return;  // cannot happen: in-flight entries are never evicted
    Entry& e = it->second;
    std::vector<snapshot::SocketAddress> before = e.addresses;
    e.in_flight = false;
    e.answered = true;
    if (!lookup->addresses.empty() && (!failed || !e.positive)) {
      // A complete answer, or a partial one when there is nothing better to keep.
      std::chrono::milliseconds ttl;
      if (lookup->from_hosts_file) {
        ttl = options_.hosts_file_ttl;
      } else {
        std::chrono::seconds s(std::max(lookup->ttl, 0));
        ttl = std::clamp<std::chrono::milliseconds>(s, options_.min_ttl, options_.max_ttl);
      }
      if (failed) ttl = std::min<std::chrono::milliseconds>(ttl, options_.retry_interval);
      e.addresses = lookup->addresses;
      e.positive = true;
      e.status = absl::OkStatus();
      e.expires = now + ttl;
      e.stale_until = e.expires + options_.max_stale;
    } else if (!failed) {
      e.addresses.clear();
      e.positive = false;
      e.status = absl::NotFoundError(absl::StrCat("dns: ", lookup->name, ": no A or AAAA records"));
      e.expires = now + options_.negative_ttl;
    } else {
      e.expires = now + options_.retry_interval;
      if (e.positive && now >= e.stale_until) {
        e.addresses.clear();
        e.positive = false;
      }
      e.status = absl::UnavailableError(absl::StrCat(
          "dns: ", lookup->name, ": lookup failed (", lookup->error, ")",
          e.positive ? "; keeping the last answer" : ""));
    }
    answer.changed = before != e.addresses;
    answer.addresses = e.addresses;
    answer.status = e.status;
  }
  if (answer.changed && on_change_) on_change_();
  if (on_answer_) on_answer_(lookup->name, answer);
}

void AresHostResolver::run() {
  while (!stopping_.load(std::memory_order_acquire)) {
    start_due_lookups(Clock::now());

    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    const int bits = ares_getsock(as_channel(channel_), socks, ARES_GETSOCK_MAXNUM);
    pollfd fds[ARES_GETSOCK_MAXNUM + 1];
    nfds_t n = 0;
    fds[n++] = pollfd{wake_fd_, POLLIN, 0};
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      short events = 0;
      if (ARES_GETSOCK_READABLE(bits, i)) events |= POLLIN;
      if (ARES_GETSOCK_WRITABLE(bits, i)) events |= POLLOUT;
      if (events) fds[n++] = pollfd{socks[i], events, 0};
    }
    // Wait for a socket, a queued name, a c-ares timeout or the next refresh, at most 1 s.
    Clock::time_point due = std::min(next_due(), Clock::now() + std::chrono::seconds(1));
    timeval max_tv{};
    auto wait = std::chrono::duration_cast<std::chrono::microseconds>(due - Clock::now());
    if (wait.count() < 0) wait = std::chrono::microseconds(0);
    max_tv.tv_sec = static_cast<time_t>(wait.count() / 1000000);
    max_tv.tv_usec = static_cast<suseconds_t>(wait.count() % 1000000);
    timeval tv{};
    timeval* t = ares_timeout(as_channel(channel_), &max_tv, &tv);
    const int timeout_ms = static_cast<int>(t->tv_sec * 1000 + (t->tv_usec + 999) / 1000);

    int ready = poll(fds, n, timeout_ms);
    if (ready < 0) continue;  // EINTR
    if (fds[0].revents & POLLIN) {
      uint64_t drained = 0;
      (void)!read(wake_fd_, &drained, sizeof(drained));
    }
    for (nfds_t i = 1; i < n; ++i) {
      if (!fds[i].revents) continue;
      const bool readable = fds[i].revents & (POLLIN | POLLERR | POLLHUP);
      const bool writable = fds[i].revents & (POLLOUT | POLLERR);
      ares_process_fd(as_channel(channel_), readable ? fds[i].fd : ARES_SOCKET_BAD,
                      writable ? fds[i].fd : ARES_SOCKET_BAD);
    }
    // Timeouts and retries to the next server.
    ares_process_fd(as_channel(channel_), ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  }
}

absl::StatusOr<std::unique_ptr<HostResolver>> make_host_resolver(const DnsOptions& options) {
  absl::StatusOr<std::unique_ptr<AresHostResolver>> r = AresHostResolver::create(options);
  if (!r.ok()) return r.status();
  return std::unique_ptr<HostResolver>(*std::move(r));
}

}  // namespace ringside::dns
