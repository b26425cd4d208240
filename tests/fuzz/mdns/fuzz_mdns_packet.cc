// Arbitrary bytes into the mDNS parser: it must never crash or loop, and whatever it accepts
// must survive build -> parse unchanged (names, types, rdata). Accepted messages also go
// through the responder's and the browser's logic, as packets from the network do.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "controlplane/resolvers/mdns/dns_message.h"
#include "controlplane/resolvers/mdns/dns_sd_records.h"

namespace {

using ringside::mdns::DnsMessage;
using ringside::mdns::ResourceRecord;

bool same_record(const ResourceRecord& a, const ResourceRecord& b) {
  return a.name.labels == b.name.labels && a.type == b.type && a.rrclass == b.rrclass && a.ttl == b.ttl &&
         a.ptr.labels == b.ptr.labels && a.srv.port == b.srv.port && a.srv.target.labels == b.srv.target.labels &&
         a.txt == b.txt && a.address == b.address && a.raw == b.raw;
}

bool same_section(const std::vector<ResourceRecord>& a, const std::vector<ResourceRecord>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!same_record(a[i], b[i])) return false;
  return true;
}

const ringside::mdns::ServiceAnnouncement& announcement() {
  static const ringside::mdns::ServiceAnnouncement a = [] {
    ringside::mdns::ServiceAnnouncement x;
    x.service = ringside::mdns::service_name_for("myapp");
    x.instance = x.service.with_prefix_label("box:1");
    x.host = ringside::mdns::DnsName::from_dotted("box.local.");
    x.port = 50002;
    x.ipv4 = {{198, 51, 100, 1}};
    x.txt = {"myapp"};
    return x;
  }();
  return a;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<DnsMessage> msg = ringside::mdns::parse_message(std::span<const uint8_t>(data, size));
  if (!msg.ok()) return 0;
  // A label may legally be empty on the wire only as the root; anything the parser accepted
  // that the builder refuses (e.g. over-long TXT is impossible) would be a mismatch worth a look,
  // so only a build error for a reason the parser cannot produce is a failure.
  absl::StatusOr<std::vector<uint8_t>> bytes = ringside::mdns::build_message(*msg);
  if (bytes.ok()) {
    absl::StatusOr<DnsMessage> again = ringside::mdns::parse_message(*bytes);
    // Re-encoding may grow a message past 9000 bytes only if the input was compressed better.
    if (!again.ok() && bytes->size() <= ringside::mdns::kMaxMessageBytes) abort();
    if (again.ok()) {
      if (again->id != msg->id || again->flags != msg->flags || again->questions.size() != msg->questions.size())
        abort();
      for (size_t i = 0; i < msg->questions.size(); ++i)
        if (again->questions[i].name.labels != msg->questions[i].name.labels ||
            again->questions[i].type != msg->questions[i].type)
          abort();
      if (!same_section(again->answers, msg->answers) || !same_section(again->authorities, msg->authorities) ||
          !same_section(again->additionals, msg->additionals))
        abort();
    }
  }
  (void)ringside::mdns::answer_for(announcement(), *msg);
  ringside::mdns::BrowseCollector c(announcement().service);
  c.add(*msg);
  (void)c.instances();
  return 0;
}
