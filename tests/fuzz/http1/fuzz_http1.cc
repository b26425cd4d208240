// libFuzzer driver for the HTTP/1.1 codec: request heads (plus invoke-target extraction and the
// chunked body that follows), response heads, and the chunked decoder on raw input.
// Invariants checked: head_size <= input size, every view inside the input (or the scratch),
// parse results stable when re-parsing exactly the head, chunked decoding independent of how
// the input is split, payload_size <= consumed <= input size, error statuses from the documented set.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "dataplane/http1/chunked_decoder.h"
#include "dataplane/http1/request_parser.h"
#include "dataplane/http1/response_parser.h"
#include "dataplane/mapping/invoke_target.h"

namespace {

using namespace ringside;

#define CHECK(cond)                                                     \
  do {                                                                  \
    if (!(cond)) {                                                      \
      __builtin_trap();                                                 \
    }                                                                   \
  } while (0)

bool inside(std::string_view v, const char* base, size_t len) {
  if (v.empty()) return true;
  return v.data() >= base && v.data() + v.size() <= base + len;
}

void check_headers(const http1::Header* h, size_t n, const char* base, size_t len) {
  CHECK(n <= http1::kMaxHeaders);
  for (size_t i = 0; i < n; ++i) {
    CHECK(!h[i].name.empty());
    CHECK(inside(h[i].name, base, len));
    CHECK(inside(h[i].value, base, len));
  }
}

// Decodes body in one go and split at `cut` (with the region moved in between); both must agree.
void check_chunked(const uint8_t* data, size_t len, size_t cut, uint64_t max_payload) {
  std::vector<uint8_t> one(data, data + len);
  http1::ChunkedDecoder a;
  http1::ParseStatus sa = a.decode(one.data(), one.size(), max_payload);
  if (sa == http1::ParseStatus::kComplete) {
    CHECK(a.consumed() <= len);
    CHECK(a.payload_size() <= a.consumed());
    CHECK(a.payload_size() <= max_payload);
    CHECK(std::memcmp(one.data() + a.consumed(), data + a.consumed(), len - a.consumed()) == 0);
  } else if (sa == http1::ParseStatus::kError) {
    CHECK(a.error_status() == 400 || a.error_status() == 413);
  }

  if (cut > len) cut = len;
  http1::ChunkedDecoder b;
  std::vector<uint8_t> part(data, data + cut);
  http1::ParseStatus sb = b.decode(part.data(), part.size(), max_payload);
  if (sb == http1::ParseStatus::kIncomplete) {
    std::vector<uint8_t> moved(part);
    moved.insert(moved.end(), data + cut, data + len);
    sb = b.decode(moved.data(), moved.size(), max_payload);
    part.swap(moved);
  }
  CHECK(sa == sb);
  if (sa == http1::ParseStatus::kComplete) {
    CHECK(a.consumed() == b.consumed());
    CHECK(a.payload_size() == b.payload_size());
    CHECK(std::memcmp(one.data(), part.data(), a.payload_size()) == 0);
  }
  if (sa == http1::ParseStatus::kError) CHECK(a.error_status() == b.error_status());
}

void fuzz_request(const uint8_t* data, size_t size, size_t max_head, size_t cut) {
  const char* base = reinterpret_cast<const char*>(data);
  std::string_view buf(base, size);
  auto head = std::make_unique<http1::RequestHead>();
  http1::ParseStatus s = http1::parse_request_head(buf, max_head, head.get());
  if (s == http1::ParseStatus::kError) {
    int e = head->error_status;
    CHECK(e == 400 || e == 417 || e == 431 || e == 501 || e == 505);
    return;
  }
  if (s != http1::ParseStatus::kComplete) return;
  CHECK(head->head_size <= size && head->head_size <= max_head);
  CHECK(!head->method.empty() && !head->target.empty());
  CHECK(inside(head->method, base, head->head_size));
  CHECK(inside(head->target, base, head->head_size));
  CHECK(inside(head->path, base, head->head_size));
  CHECK(inside(head->query, base, head->head_size));
  check_headers(head->headers, head->header_count, base, head->head_size);
  CHECK(head->body_kind != http1::BodyKind::kUntilClose);
  CHECK(head->body_kind != http1::BodyKind::kLength || head->content_length > 0);

  // The head alone parses to the same thing.
  auto again = std::make_unique<http1::RequestHead>();
  CHECK(http1::parse_request_head(buf.substr(0, head->head_size), max_head, again.get()) ==
        http1::ParseStatus::kComplete);
  CHECK(again->head_size == head->head_size && again->header_count == head->header_count);
  CHECK(again->body_kind == head->body_kind && again->keep_alive == head->keep_alive);

  // Invoke target: views land in the head or in scratch.
  std::vector<char> scratch(invoke::invoke_scratch_size(*head));
  CHECK(scratch.size() <= 2 * head->head_size + 64);
  invoke::InvokeTarget t;
  invoke::TargetError te = invoke::extract_invoke_target(*head, scratch, &t);
  CHECK(te != invoke::TargetError::kScratchTooSmall && te != invoke::TargetError::kBadPath);
  for (std::string_view v : {t.target, t.app_id, t.app_namespace, t.method})
    CHECK(inside(v, base, size) || inside(v, scratch.data(), scratch.size()));
  if (te == invoke::TargetError::kNone) {
    for (char c : t.method) CHECK(c != '#' && c != '?' && static_cast<uint8_t>(c) >= 0x20 && c != 0x7F);
    CHECK(t.method.empty() || t.method[0] != '/');
  }

  if (head->body_kind == http1::BodyKind::kChunked)
    check_chunked(data + head->head_size, size - head->head_size, cut, 1 << 16);
}

void fuzz_response(const uint8_t* data, size_t size, size_t max_head, bool was_head) {
  const char* base = reinterpret_cast<const char*>(data);
  auto head = std::make_unique<http1::ResponseHead>();
  http1::ParseStatus s = http1::parse_response_head({base, size}, max_head, was_head, head.get());
  if (s == http1::ParseStatus::kError) {
    int e = head->error_status;
    CHECK(e == 400 || e == 431 || e == 501 || e == 505);
    return;
  }
  if (s != http1::ParseStatus::kComplete) return;
  CHECK(head->head_size <= size && head->head_size <= max_head);
  CHECK(head->status >= 100 && head->status <= 999);
  CHECK(inside(head->reason, base, head->head_size));
  check_headers(head->headers, head->header_count, base, head->head_size);
  if (was_head || head->status < 200 || head->status == 204 || head->status == 304)
    CHECK(head->body_kind == http1::BodyKind::kNone);
  if (head->body_kind == http1::BodyKind::kUntilClose) CHECK(!head->keep_alive);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // Byte 0 picks limits, byte 1 a split point; the rest is the message.
  uint8_t knobs = data[0];
  size_t cut = data[1];
  data += 2;
  size -= 2;
  size_t max_head = (knobs & 1) ? 64 + (knobs >> 1) * 8 : 8192;
  fuzz_request(data, size, max_head, cut);
  fuzz_response(data, size, max_head, (knobs & 2) != 0);
  check_chunked(data, size, cut, (knobs & 4) ? 16 : UINT64_MAX);
  return 0;
}
