// The small DNS subset mDNS/DNS-SD needs (RFC 1035 wire format, RFC 6762 class bits): a
// message model, a builder that compresses names, and a bounded parser for untrusted packets.
// Only PTR, SRV, TXT, A and AAAA carry typed data; every other type keeps its raw rdata.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace ringside::mdns {

// A domain name as labels, so a label may hold any byte (DNS-SD instance names contain dots,
// spaces and colons). Compared ASCII-case-insensitively, as DNS requires.
struct DnsName {
  std::vector<std::string> labels;  // left to right, without the empty root label

  // "a.b.local." or "a.b.local" (no escapes: a dot always separates labels).
  static DnsName from_dotted(std::string_view dotted);
  // Labels joined with dots and a trailing dot; dots inside a label are written as "\.".
  std::string to_string() const;
  // This name with `prefix` put in front as one label.
  DnsName with_prefix_label(std::string_view prefix) const;
  // Whether the name ends with the labels of `suffix` (case-insensitive).
  bool ends_with(const DnsName& suffix) const;
  // The names are equal ignoring ASCII case.
  friend bool operator==(const DnsName& a, const DnsName& b);
};

namespace rrtype {
inline constexpr uint16_t kA = 1;      // IPv4 host address
inline constexpr uint16_t kPtr = 12;   // DNS-SD service -> instance
inline constexpr uint16_t kTxt = 16;   // instance metadata strings
inline constexpr uint16_t kAaaa = 28;  // IPv6 host address
inline constexpr uint16_t kSrv = 33;   // instance -> host and port
inline constexpr uint16_t kAny = 255;  // question only: every type
}  // namespace rrtype

inline constexpr uint16_t kClassIn = 1;            // the Internet class
inline constexpr uint16_t kTopClassBit = 0x8000;   // question: unicast response wanted (QU); record: cache flush

struct Question {
  DnsName name;             // what is asked about
  uint16_t type = 0;        // rrtype::*
  uint16_t qclass = kClassIn;  // class, with kTopClassBit = QU
  bool unicast_response() const { return (qclass & kTopClassBit) != 0; }
};

struct SrvData {
  uint16_t priority = 0;  // lower is preferred (DNS-SD uses 0)
  uint16_t weight = 0;    // among equal priorities (DNS-SD uses 0)
  uint16_t port = 0;      // the service's port
  DnsName target;         // the host offering it
};

struct ResourceRecord {
  DnsName name;                   // owner name
  uint16_t type = 0;              // rrtype::*
  uint16_t rrclass = kClassIn;    // class, with kTopClassBit = cache flush
  uint32_t ttl = 0;               // seconds; 0 = goodbye in mDNS
  DnsName ptr;                    // PTR: the name pointed to
  SrvData srv;                    // SRV
  std::vector<std::string> txt;   // TXT: the character-strings, in order
  std::array<uint8_t, 16> address{};  // A: first 4 bytes; AAAA: all 16
  std::vector<uint8_t> raw;       // any other type: rdata as received

  bool cache_flush() const { return (rrclass & kTopClassBit) != 0; }
};

struct DnsMessage {
  uint16_t id = 0;          // 0 in multicast mDNS messages
  uint16_t flags = 0;       // QR, opcode, AA, ..., rcode as on the wire
  std::vector<Question> questions;      // question section
  std::vector<ResourceRecord> answers;  // answer section
  std::vector<ResourceRecord> authorities;  // authority section (probes put proposed records here)
  std::vector<ResourceRecord> additionals;  // additional section

  bool is_response() const { return (flags & 0x8000) != 0; }
};

inline constexpr uint16_t kFlagResponse = 0x8000;       // QR
inline constexpr uint16_t kFlagAuthoritative = 0x0400;  // AA

// Bounds the parser enforces on untrusted input.
inline constexpr size_t kMaxMessageBytes = 9000;   // RFC 6762 §17: mDNS messages fit in 9000 bytes
inline constexpr size_t kMaxRecordsPerMessage = 256;  // across all four sections
inline constexpr size_t kMaxNameBytes = 255;       // RFC 1035 §3.1, wire length

// Serialises `msg`; names (owner names and PTR/SRV targets) are compressed against earlier
// ones. Errors when a label exceeds 63 bytes, a name 255 bytes, a TXT string 255 bytes, or the
// message 65535 bytes.
absl::StatusOr<std::vector<uint8_t>> build_message(const DnsMessage& msg);

// Parses one message. Rejects truncated data, pointers that do not point strictly backwards
// (so no loops), names over 255 bytes, counts over the bounds above, rdata whose length does
// not match its contents, and trailing garbage inside rdata.
absl::StatusOr<DnsMessage> parse_message(std::span<const uint8_t> packet);

}  // namespace ringside::mdns
