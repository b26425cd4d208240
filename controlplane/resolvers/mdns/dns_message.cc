#include "controlplane/resolvers/mdns/dns_message.h"

#include <algorithm>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace ringside::mdns {
namespace {

bool label_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (absl::ascii_tolower(static_cast<unsigned char>(a[i])) != absl::ascii_tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// ---- builder ---------------------------------------------------------------------------

class Writer {
 public:
  void put_u16(uint16_t v) {
    out_.push_back(static_cast<uint8_t>(v >> 8));
    out_.push_back(static_cast<uint8_t>(v));
  }
  void put_u32(uint32_t v) {
    put_u16(static_cast<uint16_t>(v >> 16));
    put_u16(static_cast<uint16_t>(v));
  }
  void put_bytes(const uint8_t* p, size_t n) { out_.insert(out_.end(), p, p + n); }

  // Writes `name`, reusing the longest suffix already written (RFC 1035 §4.1.4).
  absl::Status put_name(const DnsName& name) {
    size_t wire = 1;
    for (const std::string& l : name.labels) {
      if (l.empty()) return absl::InvalidArgumentError(absl::StrCat("empty label in name ", name.to_string()));
      if (l.size() > 63) return absl::InvalidArgumentError(absl::StrCat("label longer than 63 bytes in ", name.to_string()));
      wire += l.size() + 1;
    }
    if (wire > kMaxNameBytes) return absl::InvalidArgumentError(absl::StrCat("name longer than 255 bytes: ", name.to_string()));
    for (size_t i = 0; i < name.labels.size(); ++i) {
      const std::string key = suffix_key(name, i);
      if (auto it = offsets_.find(key); it != offsets_.end()) {
        put_u16(static_cast<uint16_t>(0xC000 | it->second));
        return absl::OkStatus();
      }
      // Only offsets a 14-bit pointer can reach are remembered.
      if (out_.size() < 0x4000) offsets_.emplace(key, static_cast<uint16_t>(out_.size()));
      out_.push_back(static_cast<uint8_t>(name.labels[i].size()));
      put_bytes(reinterpret_cast<const uint8_t*>(name.labels[i].data()), name.labels[i].size());
    }
    out_.push_back(0);
    return absl::OkStatus();
  }

  size_t size() const { return out_.size(); }
  void patch_u16(size_t at, uint16_t v) {
    out_[at] = static_cast<uint8_t>(v >> 8);
    out_[at + 1] = static_cast<uint8_t>(v);
  }
  std::vector<uint8_t> take() { return std::move(out_); }

 private:
  // Length-prefixed labels from index `from` on: unambiguous even with dots in labels. Exact
  // bytes, not case-folded: reusing "LOCAL" for "local" would change how a name is spelled.
  static std::string suffix_key(const DnsName& name, size_t from) {
    std::string key;
    for (size_t i = from; i < name.labels.size(); ++i) {
      key.push_back(static_cast<char>(name.labels[i].size()));
      key += name.labels[i];
    }
    return key;
  }

  std::vector<uint8_t> out_;                              // the message so far
  absl::flat_hash_map<std::string, uint16_t> offsets_;    // suffix key -> where it was written
};

absl::Status put_record(Writer& w, const ResourceRecord& rr) {
  if (absl::Status s = w.put_name(rr.name); !s.ok()) return s;
  w.put_u16(rr.type);
  w.put_u16(rr.rrclass);
  w.put_u32(rr.ttl);
  const size_t length_at = w.size();
  w.put_u16(0);  // rdlength, patched below
  switch (rr.type) {
    case rrtype::kPtr:
      if (absl::Status s = w.put_name(rr.ptr); !s.ok()) return s;
      break;
    case rrtype::kSrv:
      w.put_u16(rr.srv.priority);
      w.put_u16(rr.srv.weight);
      w.put_u16(rr.srv.port);
      // RFC 2782 forbids compressing the SRV target, but RFC 6762 §18.14 allows it in mDNS and
      // every mDNS stack (avahi, zeroconf's miekg/dns) reads it; compressing keeps answers small.
      if (absl::Status s = w.put_name(rr.srv.target); !s.ok()) return s;
      break;
    case rrtype::kTxt:
      if (rr.txt.empty()) {
        // RFC 6763 §6.1: an empty TXT record holds one empty string.
        uint8_t zero = 0;
        w.put_bytes(&zero, 1);
      }
      for (const std::string& t : rr.txt) {
        if (t.size() > 255) return absl::InvalidArgumentError("TXT string longer than 255 bytes");
        uint8_t len = static_cast<uint8_t>(t.size());
        w.put_bytes(&len, 1);
        w.put_bytes(reinterpret_cast<const uint8_t*>(t.data()), t.size());
      }
      break;
    case rrtype::kA:
      w.put_bytes(rr.address.data(), 4);
      break;
    case rrtype::kAaaa:
      w.put_bytes(rr.address.data(), 16);
      break;
    default:
      w.put_bytes(rr.raw.data(), rr.raw.size());
      break;
  }
  const size_t rdlength = w.size() - length_at - 2;
  if (rdlength > 0xFFFF) return absl::InvalidArgumentError("rdata longer than 65535 bytes");
  w.patch_u16(length_at, static_cast<uint16_t>(rdlength));
  return absl::OkStatus();
}

// ---- parser ----------------------------------------------------------------------------

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> data) : data_(data) {}

  bool u8(uint8_t* v) {
    if (pos_ + 1 > data_.size()) return false;
    *v = data_[pos_++];
    return true;
  }
  bool u16(uint16_t* v) {
    if (pos_ + 2 > data_.size()) return false;
    *v = static_cast<uint16_t>(data_[pos_] << 8 | data_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool u32(uint32_t* v) {
    uint16_t hi, lo;
    if (!u16(&hi) || !u16(&lo)) return false;
    *v = static_cast<uint32_t>(hi) << 16 | lo;
    return true;
  }
  bool bytes(uint8_t* out, size_t n) {
    if (n == 0) return true;  // `out` may be null for empty rdata
    if (pos_ + n > data_.size()) return false;
    std::memcpy(out, data_.data() + pos_, n);
    pos_ += n;
    return true;
  }

  // Reads a possibly compressed name at the cursor. Every pointer must point strictly before
  // the start of the run of labels that led to it, so each jump lands lower than the last and
  // following pointers always terminates (a compressor only points at names written earlier).
  absl::Status name(DnsName* out) {
    out->labels.clear();
    size_t at = pos_;                // where the next label byte is read
    size_t resume = 0;               // cursor after the first pointer (0 = no pointer yet)
    size_t wire = 1;                 // uncompressed length including the root byte
    size_t segment_start = pos_;     // where the current run of labels began
    for (;;) {
      if (at >= data_.size()) return absl::InvalidArgumentError("name runs past the end of the message");
      const uint8_t len = data_[at];
      if (len == 0) {
        pos_ = resume != 0 ? resume : at + 1;
        return absl::OkStatus();
      }
      if ((len & 0xC0) == 0xC0) {
        if (at + 1 >= data_.size()) return absl::InvalidArgumentError("truncated compression pointer");
        const size_t target = static_cast<size_t>(len & 0x3F) << 8 | data_[at + 1];
        if (target >= segment_start) return absl::InvalidArgumentError("compression pointer does not point backwards");
        if (resume == 0) resume = at + 2;
        at = target;
        segment_start = target;
        continue;
      }
      if ((len & 0xC0) != 0) return absl::InvalidArgumentError("reserved label type");
      if (at + 1 + len > data_.size()) return absl::InvalidArgumentError("label runs past the end of the message");
      wire += len + 1;
      if (wire > kMaxNameBytes) return absl::InvalidArgumentError("name longer than 255 bytes");
      out->labels.emplace_back(reinterpret_cast<const char*>(data_.data() + at + 1), len);
      at += 1 + len;
    }
  }

  size_t pos() const { return pos_; }
  size_t size() const { return data_.size(); }

 private:
  std::span<const uint8_t> data_;  // the whole message (pointers are offsets into it)
  size_t pos_ = 0;                 // read cursor
};

absl::Status truncated(const char* what) { return absl::InvalidArgumentError(absl::StrCat("truncated ", what)); }

absl::Status read_record(Reader& r, ResourceRecord* rr) {
  if (absl::Status s = r.name(&rr->name); !s.ok()) return s;
  uint16_t rdlength = 0;
  if (!r.u16(&rr->type) || !r.u16(&rr->rrclass) || !r.u32(&rr->ttl) || !r.u16(&rdlength))
    return truncated("resource record header");
  const size_t end = r.pos() + rdlength;
  if (end > r.size()) return truncated("rdata");
  switch (rr->type) {
    case rrtype::kPtr:
      if (absl::Status s = r.name(&rr->ptr); !s.ok()) return s;
      break;
    case rrtype::kSrv:
      if (!r.u16(&rr->srv.priority) || !r.u16(&rr->srv.weight) || !r.u16(&rr->srv.port)) return truncated("SRV rdata");
      if (absl::Status s = r.name(&rr->srv.target); !s.ok()) return s;
      break;
    case rrtype::kTxt:
      while (r.pos() < end) {
        uint8_t len = 0;
        r.u8(&len);
        if (r.pos() + len > end) return absl::InvalidArgumentError("TXT string runs past its rdata");
        std::string s(len, '\0');
        r.bytes(reinterpret_cast<uint8_t*>(s.data()), len);
        rr->txt.push_back(std::move(s));
      }
      // RFC 6763 §6.1: one empty string means "no TXT data".
      if (rr->txt.size() == 1 && rr->txt[0].empty()) rr->txt.clear();
      break;
    case rrtype::kA:
      if (rdlength != 4) return absl::InvalidArgumentError("A rdata is not 4 bytes");
      r.bytes(rr->address.data(), 4);
      break;
    case rrtype::kAaaa:
      if (rdlength != 16) return absl::InvalidArgumentError("AAAA rdata is not 16 bytes");
      r.bytes(rr->address.data(), 16);
      break;
    default:
      rr->raw.resize(rdlength);
      r.bytes(rr->raw.data(), rdlength);
      break;
  }
  if (r.pos() != end) return absl::InvalidArgumentError("rdata length does not match its contents");
  return absl::OkStatus();
}

}  // namespace

DnsName DnsName::from_dotted(std::string_view dotted) {
  DnsName n;
  size_t start = 0;
  while (start < dotted.size()) {
    size_t dot = dotted.find('.', start);
    if (dot == std::string_view::npos) dot = dotted.size();
    if (dot > start) n.labels.emplace_back(dotted.substr(start, dot - start));
    start = dot + 1;
  }
  return n;
}

std::string DnsName::to_string() const {
  std::string out;
  for (const std::string& l : labels) {
    for (char c : l) {
      if (c == '.' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('.');
  }
  return out.empty() ? "." : out;
}

DnsName DnsName::with_prefix_label(std::string_view prefix) const {
  DnsName n;
  n.labels.reserve(labels.size() + 1);
  n.labels.emplace_back(prefix);
  n.labels.insert(n.labels.end(), labels.begin(), labels.end());
  return n;
}

bool DnsName::ends_with(const DnsName& suffix) const {
  if (suffix.labels.size() > labels.size()) return false;
  const size_t skip = labels.size() - suffix.labels.size();
  for (size_t i = 0; i < suffix.labels.size(); ++i)
    if (!label_equal(labels[skip + i], suffix.labels[i])) return false;
  return true;
}

bool operator==(const DnsName& a, const DnsName& b) {
  return a.labels.size() == b.labels.size() && a.ends_with(b);
}

absl::StatusOr<std::vector<uint8_t>> build_message(const DnsMessage& msg) {
  Writer w;
  w.put_u16(msg.id);
  w.put_u16(msg.flags);
  const size_t counts[] = {msg.questions.size(), msg.answers.size(), msg.authorities.size(), msg.additionals.size()};
  for (size_t c : counts) {
    if (c > 0xFFFF) return absl::InvalidArgumentError("too many records for one message");
    w.put_u16(static_cast<uint16_t>(c));
  }
  for (const Question& q : msg.questions) {
    if (absl::Status s = w.put_name(q.name); !s.ok()) return s;
    w.put_u16(q.type);
    w.put_u16(q.qclass);
  }
  for (const auto* section : {&msg.answers, &msg.authorities, &msg.additionals})
    for (const ResourceRecord& rr : *section)
      if (absl::Status s = put_record(w, rr); !s.ok()) return s;
  if (w.size() > 0xFFFF) return absl::InvalidArgumentError("message longer than 65535 bytes");
  return w.take();
}

absl::StatusOr<DnsMessage> parse_message(std::span<const uint8_t> packet) {
  if (packet.size() > kMaxMessageBytes) return absl::InvalidArgumentError("message longer than 9000 bytes");
  Reader r(packet);
  DnsMessage msg;
  uint16_t counts[4] = {};
  if (!r.u16(&msg.id) || !r.u16(&msg.flags)) return truncated("header");
  for (uint16_t& c : counts)
    if (!r.u16(&c)) return truncated("header");
  if (static_cast<size_t>(counts[0]) + counts[1] + counts[2] + counts[3] > kMaxRecordsPerMessage)
    return absl::InvalidArgumentError("more records than the parser accepts");
  msg.questions.resize(counts[0]);
  for (Question& q : msg.questions) {
    if (absl::Status s = r.name(&q.name); !s.ok()) return s;
    if (!r.u16(&q.type) || !r.u16(&q.qclass)) return truncated("question");
  }
  std::vector<ResourceRecord>* sections[] = {&msg.answers, &msg.authorities, &msg.additionals};
  for (int i = 0; i < 3; ++i) {
    sections[i]->resize(counts[i + 1]);
    for (ResourceRecord& rr : *sections[i])
      if (absl::Status s = read_record(r, &rr); !s.ok()) return s;
  }
  return msg;
}

}  // namespace ringside::mdns
