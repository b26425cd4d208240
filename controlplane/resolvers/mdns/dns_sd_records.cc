#include "controlplane/resolvers/mdns/dns_sd_records.h"

#include <algorithm>

namespace ringside::mdns {
namespace {

// A malicious or chatty network must not grow a browse without bound.
constexpr size_t kMaxInstances = 64;         // instances one browse keeps
constexpr size_t kMaxHosts = 64;             // host names one packet may carry addresses for
constexpr size_t kMaxAddressesPerHost = 8;   // per family

ResourceRecord base(const DnsName& name, uint16_t type, uint32_t ttl, bool flush) {
  ResourceRecord rr;
  rr.name = name;
  rr.type = type;
  rr.rrclass = static_cast<uint16_t>(kClassIn | (flush ? kTopClassBit : 0));
  rr.ttl = ttl;
  return rr;
}

ResourceRecord ptr_record(const DnsName& name, const DnsName& target, uint32_t ttl) {
  ResourceRecord rr = base(name, rrtype::kPtr, ttl, false);  // shared record: never cache-flush
  rr.ptr = target;
  return rr;
}

ResourceRecord srv_record(const ServiceAnnouncement& a, uint32_t ttl, bool flush) {
  ResourceRecord rr = base(a.instance, rrtype::kSrv, ttl, flush);
  rr.srv.port = a.port;
  rr.srv.target = a.host;
  return rr;
}

ResourceRecord txt_record(const ServiceAnnouncement& a, uint32_t ttl, bool flush) {
  ResourceRecord rr = base(a.instance, rrtype::kTxt, ttl, flush);
  rr.txt = a.txt;
  return rr;
}

// A/AAAA records of the host; TTL 120 unless this is a goodbye.
void append_addresses(const ServiceAnnouncement& a, uint32_t ttl, bool flush, uint16_t only_type,
                      std::vector<ResourceRecord>* out) {
  const uint32_t host_ttl = ttl == 0 ? 0 : kHostTtlSeconds;
  if (only_type == rrtype::kAny || only_type == rrtype::kA)
    for (const Ipv4Bytes& v4 : a.ipv4) {
      ResourceRecord rr = base(a.host, rrtype::kA, host_ttl, flush);
      std::copy(v4.begin(), v4.end(), rr.address.begin());
      out->push_back(std::move(rr));
    }
  if (only_type == rrtype::kAny || only_type == rrtype::kAaaa)
    for (const Ipv6Bytes& v6 : a.ipv6) {
      ResourceRecord rr = base(a.host, rrtype::kAaaa, host_ttl, flush);
      rr.address = v6;
      out->push_back(std::move(rr));
    }
}

bool asks(const Question& q, uint16_t type) { return q.type == type || q.type == rrtype::kAny; }

// RFC 6762 §7.1: the querier lists the answers it already holds; skip ours if it holds it with
// at least half its TTL left.
bool already_known(const DnsMessage& query, const ResourceRecord& ours) {
  for (const ResourceRecord& known : query.answers) {
    if (known.type != ours.type || !(known.name == ours.name)) continue;
    if (ours.type == rrtype::kPtr && !(known.ptr == ours.ptr)) continue;
    if (known.ttl >= ours.ttl / 2) return true;
  }
  return false;
}

}  // namespace

DnsName service_name_for(std::string_view app_id) {
  DnsName n;
  n.labels = {std::string(app_id), "local"};
  return n;
}

DnsName service_enumeration_name() { return DnsName::from_dotted("_services._dns-sd._udp.local."); }

DnsMessage announcement_message(const ServiceAnnouncement& a, uint32_t ttl) {
  DnsMessage m;
  m.flags = kFlagResponse | kFlagAuthoritative;
  m.answers.push_back(srv_record(a, ttl, true));
  m.answers.push_back(txt_record(a, ttl, true));
  m.answers.push_back(ptr_record(a.service, a.instance, ttl));
  m.answers.push_back(ptr_record(service_enumeration_name(), a.service, ttl));
  append_addresses(a, ttl, true, rrtype::kAny, &m.answers);
  return m;
}

std::optional<DnsMessage> answer_for(const ServiceAnnouncement& a, const DnsMessage& query) {
  // Probes (records in the authority section) are another host claiming names; we do not
  // defend ours (neither does zeroconf), and responses are not questions.
  if (query.is_response() || !query.authorities.empty()) return std::nullopt;
  DnsMessage resp;
  resp.flags = kFlagResponse | kFlagAuthoritative;
  bool want_srv_extras = false;   // SRV/TXT/addresses go to the additional section
  bool want_addr_extras = false;  // addresses go to the additional section
  auto add_answer = [&](ResourceRecord rr) {
    if (already_known(query, rr)) return;
    for (const ResourceRecord& have : resp.answers)
      if (have.type == rr.type && have.name == rr.name && have.ptr == rr.ptr && have.address == rr.address) return;
    resp.answers.push_back(std::move(rr));
  };
  for (const Question& q : query.questions) {
    if (q.name == service_enumeration_name() && asks(q, rrtype::kPtr)) {
      add_answer(ptr_record(q.name, a.service, kServiceTtlSeconds));
    } else if (q.name == a.service && asks(q, rrtype::kPtr)) {
      add_answer(ptr_record(a.service, a.instance, kServiceTtlSeconds));
      want_srv_extras = true;
    } else if (q.name == a.instance) {
      if (asks(q, rrtype::kSrv)) add_answer(srv_record(a, kServiceTtlSeconds, true));
      if (asks(q, rrtype::kTxt)) add_answer(txt_record(a, kServiceTtlSeconds, true));
      want_addr_extras = want_addr_extras || asks(q, rrtype::kSrv);
    } else if (q.name == a.host && (asks(q, rrtype::kA) || asks(q, rrtype::kAaaa))) {
      std::vector<ResourceRecord> addrs;
      append_addresses(a, kServiceTtlSeconds, true, q.type, &addrs);
      for (ResourceRecord& rr : addrs) add_answer(std::move(rr));
    }
  }
  if (resp.answers.empty()) return std::nullopt;
  auto in_answers = [&](const ResourceRecord& rr) {
    for (const ResourceRecord& have : resp.answers)
      if (have.type == rr.type && have.name == rr.name) return true;
    return false;
  };
  std::vector<ResourceRecord> extras;
  if (want_srv_extras) {
    extras.push_back(srv_record(a, kServiceTtlSeconds, true));
    extras.push_back(txt_record(a, kServiceTtlSeconds, true));
  }
  if (want_srv_extras || want_addr_extras) append_addresses(a, kServiceTtlSeconds, true, rrtype::kAny, &extras);
  for (ResourceRecord& rr : extras)
    if (!in_answers(rr)) resp.additionals.push_back(std::move(rr));
  return resp;
}

DnsMessage browse_query(const DnsName& service) {
  DnsMessage m;
  Question q;
  q.name = service;
  q.type = rrtype::kPtr;
  q.qclass = kClassIn;  // QM: answers are multicast, so every sidecar's cache sees them
  m.questions.push_back(std::move(q));
  return m;
}

BrowsedInstance* BrowseCollector::instance_for(const DnsName& name) {
  for (BrowsedInstance& i : instances_)
    if (i.instance == name) return &i;
  if (instances_.size() >= kMaxInstances) return nullptr;
  instances_.emplace_back();
  instances_.back().instance = name;
  return &instances_.back();
}

void BrowseCollector::add(const DnsMessage& response) {
  if (!response.is_response()) return;
  // Addresses are taken per packet, as zeroconf does: two sidecars in two network namespaces of
  // one machine announce the same host name with different addresses, so addresses of one host
  // name seen in different packets must not be merged.
  struct HostAddresses {
    const DnsName* host;            // owner name of the A/AAAA records
    std::vector<Ipv4Bytes> ipv4;    // A rdata in this packet
    std::vector<Ipv6Bytes> ipv6;    // AAAA rdata in this packet
  };
  std::vector<HostAddresses> hosts;
  std::vector<size_t> srv_in_packet;  // indexes into instances_ whose SRV this packet carried
  for (const auto* section : {&response.answers, &response.authorities, &response.additionals}) {
    for (const ResourceRecord& rr : *section) {
      // An instance of our service is exactly one label in front of the service name.
      const bool names_instance =
          rr.name.labels.size() == service_.labels.size() + 1 && rr.name.ends_with(service_);
      if (rr.type == rrtype::kPtr && rr.name == service_) {
        if (rr.ptr.labels.size() != service_.labels.size() + 1 || !rr.ptr.ends_with(service_)) continue;
        if (BrowsedInstance* i = instance_for(rr.ptr)) i->goodbye = rr.ttl == 0;
      } else if (rr.type == rrtype::kSrv && names_instance) {
        if (BrowsedInstance* i = instance_for(rr.name)) {
          i->host = rr.srv.target;
          i->port = rr.srv.port;
          i->has_srv = true;
          i->goodbye = rr.ttl == 0;
          srv_in_packet.push_back(static_cast<size_t>(i - instances_.data()));
        }
      } else if (rr.type == rrtype::kTxt && names_instance) {
        if (BrowsedInstance* i = instance_for(rr.name)) i->txt = rr.txt;
      } else if (rr.type == rrtype::kA || rr.type == rrtype::kAaaa) {
        HostAddresses* h = nullptr;
        for (HostAddresses& seen : hosts)
          if (*seen.host == rr.name) h = &seen;
        if (h == nullptr) {
          if (hosts.size() >= kMaxHosts) continue;
          hosts.push_back(HostAddresses{&rr.name, {}, {}});
          h = &hosts.back();
        }
        if (rr.type == rrtype::kA) {
          Ipv4Bytes v4;
          std::copy_n(rr.address.begin(), 4, v4.begin());
          if (std::find(h->ipv4.begin(), h->ipv4.end(), v4) == h->ipv4.end() && h->ipv4.size() < kMaxAddressesPerHost)
            h->ipv4.push_back(v4);
        } else if (std::find(h->ipv6.begin(), h->ipv6.end(), rr.address) == h->ipv6.end() &&
                   h->ipv6.size() < kMaxAddressesPerHost) {
          h->ipv6.push_back(rr.address);
        }
      }
    }
  }
  for (size_t idx = 0; idx < instances_.size(); ++idx) {
    BrowsedInstance& i = instances_[idx];
    if (!i.has_srv) continue;
    const bool srv_here = std::find(srv_in_packet.begin(), srv_in_packet.end(), idx) != srv_in_packet.end();
    // Addresses that came with the SRV win; an instance still without any takes its host's
    // addresses from a later packet.
    if (!srv_here && (!i.ipv4.empty() || !i.ipv6.empty())) continue;
    for (const HostAddresses& h : hosts) {
      if (!(*h.host == i.host)) continue;
      i.ipv4 = h.ipv4;
      i.ipv6 = h.ipv6;
    }
  }
}

std::vector<BrowsedInstance> BrowseCollector::instances() const {
  std::vector<BrowsedInstance> out;
  for (const BrowsedInstance& i : instances_)
    if (i.has_srv) out.push_back(i);
  return out;
}

}  // namespace ringside::mdns
