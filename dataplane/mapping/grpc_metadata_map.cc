#include "dataplane/mapping/grpc_metadata_map.h"

#include <cstring>

#include "dataplane/http1/base64.h"

namespace ringside::invoke {
namespace {

constexpr std::string_view kIanaPermanent[] = {
    "Accept", "Accept-Charset", "Accept-Language", "Accept-Ranges", "Connection", "Keep-Alive",
    "Proxy-Connection", "Transfer-Encoding", "Upgrade", "Cache-Control", "Content-Type",
    "Content-Length", "Cookie", "Date", "Expect", "From", "Host", "If-Match",
    "If-Modified-Since", "If-None-Match", "If-Schedule-Tag-Match", "If-Unmodified-Since",
    "Max-Forwards", "Origin", "Pragma", "Referer", "Via", "Warning"};

constexpr size_t kMaxKey = 256;  // longer keys are not forwarded (no real header is this long)

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

int b64_index(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool parse_hex(std::string_view s, uint8_t* out) {
  for (size_t i = 0; i < s.size() / 2; ++i) {
    int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

// gRPC wire values of ASCII metadata: visible characters and space only.
bool is_printable_value(std::string_view v) {
  for (char c : v) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// The base64 of "-bin" values goes out without padding, as grpc-go writes it.
std::string_view strip_padding(std::string_view v) {
  while (!v.empty() && v.back() == '=') v.remove_suffix(1);
  return v;
}

}  // namespace

bool is_iana_permanent_header(std::string_view key) {
  for (std::string_view k : kIanaPermanent) {
    if (k == key) return true;
  }
  return false;
}

bool is_valid_grpc_key(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool is_std_base64(std::string_view v) {
  if (v.size() % 4 != 0) return false;
  size_t pad = 0;
  if (!v.empty() && v.back() == '=') ++pad;
  if (v.size() >= 2 && v[v.size() - 2] == '=') ++pad;
  for (size_t i = 0; i < v.size() - pad; ++i) {
    if (b64_index(v[i]) < 0) return false;
  }
  return true;
}

bool is_dropped_grpc_key(std::string_view k) {
  return grpc::is_reserved_header(k) || k == "user-agent" || k == "grpc-status-details-bin" ||
         k == "grpc-accept-encoding" || k == "dapr-api-token";  // the app gets APP_API_TOKEN instead
}

bool parse_traceparent(std::string_view tp, uint8_t out[kTraceBinSize]) {
  // 00-<32 hex trace id>-<16 hex span id>-<2 hex flags>
  if (tp.size() != 55 || tp.substr(0, 3) != "00-" || tp[35] != '-' || tp[52] != '-') return false;
  out[0] = 0;
  out[1] = 0;
  out[18] = 1;
  out[27] = 2;
  return parse_hex(tp.substr(3, 32), out + 2) && parse_hex(tp.substr(36, 16), out + 19) &&
         parse_hex(tp.substr(53, 2), out + 28);
}

bool parse_trace_bin(std::string_view b64, uint8_t out[kTraceBinSize]) {
  uint8_t buf[64];
  size_t n = 0;
  if (b64.size() > 80 ||
      !http1::base64_decode(b64, std::span<uint8_t>(buf, sizeof buf), &n,
                            http1::Base64Padding::kOptional)) {
    return false;
  }
  if (n != kTraceBinSize || buf[0] != 0 || buf[1] != 0 || buf[18] != 1 || buf[27] != 2) {
    return false;
  }
  std::memcpy(out, buf, kTraceBinSize);
  return true;
}

size_t format_traceparent(const uint8_t bin[kTraceBinSize], char out[55]) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t n = 0;
  auto hex = [&](const uint8_t* p, size_t len) {
    for (size_t i = 0; i < len; ++i) {
      out[n++] = kHex[p[i] >> 4];
      out[n++] = kHex[p[i] & 15];
    }
  };
  out[n++] = '0';
  out[n++] = '0';
  out[n++] = '-';
  hex(bin + 2, 16);
  out[n++] = '-';
  hex(bin + 19, 8);
  out[n++] = '-';
  hex(bin + 28, 1);
  return n;
}

bool GrpcMetadataConverter::add(std::string_view key, std::string_view value) {
  if (key.empty() || key.size() > kMaxKey) return ok_;
  char lower[kMaxKey + 5];
  std::memcpy(lower, "dapr-", 5);
  for (size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    lower[5 + i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  }
  std::string_view lk(lower + 5, key.size());
  if (key == "content-type" && content_type_.empty()) content_type_ = value;
  if (lk == "traceparent") {
    if (traceparent_.empty()) traceparent_ = value;
    return ok_;
  }
  if (lk == "tracestate") {
    if (tracestate_.empty()) tracestate_ = value;
    return ok_;
  }
  if (lk == "grpc-trace-bin") {
    if (trace_bin_.empty()) trace_bin_ = value;
    return ok_;
  }
  if (lk == "destination-app-id") return ok_;
  std::string_view out_key = lk;
  if (rename_ && is_iana_permanent_header(key)) out_key = std::string_view(lower, key.size() + 5);
  if (!is_valid_grpc_key(out_key) || is_dropped_grpc_key(out_key)) return ok_;
  if (ends_with(out_key, "-bin")) {
    if (!is_std_base64(value)) return ok_;  // Go skips values it cannot decode
    value = strip_padding(value);
  } else if (!is_printable_value(value)) {
    return ok_;  // a gRPC peer would refuse the whole call over it
  }
  ok_ = ok_ && out_->add(out_key, value);
  return ok_;
}

bool GrpcMetadataConverter::finish() {
  uint8_t bin[kTraceBinSize];
  bool grpc_origin = content_type_.substr(0, 16) == "application/grpc";
  bool have = grpc_origin && !trace_bin_.empty() && parse_trace_bin(trace_bin_, bin);
  if (!have && !traceparent_.empty()) have = parse_traceparent(traceparent_, bin);
  if (!have) return ok_;
  char tp[55];
  size_t tp_len = format_traceparent(bin, tp);
  char b64[http1::base64_encoded_size(kTraceBinSize)];
  size_t b64_len = http1::base64_encode(std::span<const uint8_t>(bin, kTraceBinSize),
                                        std::span<char>(b64, sizeof b64));
  ok_ = ok_ && out_->add("traceparent", std::string_view(tp, tp_len));
  if (!tracestate_.empty() && tracestate_.size() <= 512 && is_printable_value(tracestate_)) {
    ok_ = ok_ && out_->add("tracestate", tracestate_);
  }
  ok_ = ok_ && out_->add("grpc-trace-bin", strip_padding(std::string_view(b64, b64_len)));
  return ok_;
}

bool add_grpc_metadata(std::span<const grpc::Metadata> md, MetadataBuilder* out,
                       std::string_view skip_key) {
  for (const grpc::Metadata& m : md) {
    if (m.key.empty() || m.key == skip_key) continue;
    std::string_view v = m.value;
    if (ends_with(m.key, "-bin")) {
      // Go decoded it (padded or not); daprd stores base64.StdEncoding of the bytes.
      std::string_view bare = strip_padding(v);
      if (bare.size() % 4 == 1) continue;  // no base64 has this length
      size_t full = bare.size() + (4 - bare.size() % 4) % 4;
      char* p = out->reserve_text(full);
      if (!p) return false;
      std::memcpy(p, bare.data(), bare.size());
      for (size_t i = bare.size(); i < full; ++i) p[i] = '=';
      v = std::string_view(p, full);
      if (!is_std_base64(v)) continue;
    }
    if (!out->add(m.key, v)) return false;
  }
  return true;
}

}  // namespace ringside::invoke
