// libFuzzer driver for the pure gRPC wire pieces: unary message reassembly and streaming
// message splitting (chunked vs whole must agree), grpc-timeout parsing/formatting, grpc-message percent encoding round trip.
//
// Input layout: [max-size selector][chunk size][bytes...]
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/grpc/framing.h"
#include "dataplane/grpc/message_encoding.h"
#include "dataplane/grpc/message_stream_reader.h"
#include "dataplane/grpc/timeout.h"
#include "dataplane/mem/shard_pool.h"

namespace {

using ringside::grpc::UnaryMessageReader;

void check(bool ok) {
  if (!ok) std::abort();
}

struct Outcome {
  bool ok;
  ringside::grpc::FramingError error;
};

Outcome reassemble(UnaryMessageReader& r, const uint8_t* data, size_t size, size_t chunk) {
  for (size_t off = 0; off < size; off += chunk) {
    size_t n = size - off < chunk ? size - off : chunk;
    if (!r.feed(data + off, n)) return {false, r.error()};
  }
  bool ok = r.finish();
  return {ok, r.error()};
}

// Splits a streaming call's bytes fed in `chunk`-sized pieces; the messages go to *out.
Outcome split_stream(ringside::grpc::MessageStreamReader& r, const uint8_t* data, size_t size,
                     size_t chunk, std::vector<std::string>* out) {
  using Result = ringside::grpc::MessageStreamReader::Result;
  for (size_t off = 0; off < size; off += chunk) {
    std::span<const uint8_t> in(data + off, size - off < chunk ? size - off : chunk);
    for (;;) {
      std::string_view m;
      Result res = r.next(&in, &m);
      if (res == Result::kError) return {false, r.error()};
      if (res == Result::kNeedMore) break;
      out->emplace_back(m);
    }
    check(in.empty());
  }
  bool ok = r.finish();
  return {ok, r.error()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ringside::mem::ShardPool pool;
  if (size < 2) return 0;
  uint32_t max = data[0] & 0x80 ? 1u << 20 : data[0];
  size_t chunk = data[1] == 0 ? 1 : data[1];
  data += 2;
  size -= 2;

  UnaryMessageReader whole(&pool, max), chunked(&pool, max);
  Outcome a = reassemble(whole, data, size, size == 0 ? 1 : size);
  Outcome b = reassemble(chunked, data, size, chunk);
  check(a.ok == b.ok && a.error == b.error);
  if (a.ok) {
    check(whole.message().size() <= max);
    check(whole.message() == chunked.message());
    check(size == ringside::grpc::kMessagePrefixSize + whole.message().size());
  }
  whole.reset();
  chunked.reset();

  // Streaming: the same messages and the same verdict whatever the split.
  ringside::grpc::MessageStreamReader swhole(&pool, max), schunked(&pool, max);
  std::vector<std::string> mw, mc;
  Outcome sa = split_stream(swhole, data, size, size == 0 ? 1 : size, &mw);
  Outcome sb = split_stream(schunked, data, size, chunk, &mc);
  check(sa.ok == sb.ok && sa.error == sb.error && mw == mc);
  size_t framed_bytes = 0;
  for (const std::string& m : mw) {
    check(m.size() <= max);
    framed_bytes += ringside::grpc::kMessagePrefixSize + m.size();
  }
  check(framed_bytes <= size);
  if (sa.ok) check(framed_bytes == size);

  std::string_view text(reinterpret_cast<const char*>(data), size < 64 ? size : 64);
  int64_t ns = 0;
  if (ringside::grpc::parse_grpc_timeout(text, &ns)) check(ns >= 0);
  char out[16];
  int64_t v = 0;
  std::memcpy(&v, data, size < sizeof v ? size : sizeof v);
  size_t n = ringside::grpc::format_grpc_timeout(v, out);
  int64_t back = 0;
  check(n <= 9 && ringside::grpc::parse_grpc_timeout(std::string_view(out, n), &back));
  check(back >= (v > 0 ? v : 1));

  static char enc[3 * 4096], dec[3 * 4096];
  std::string_view msg(reinterpret_cast<const char*>(data), size < 4096 ? size : 4096);
  size_t en = ringside::grpc::percent_encode(msg, enc, sizeof enc);
  check(en == ringside::grpc::percent_encoded_size(msg));
  size_t dn = ringside::grpc::percent_decode(std::string_view(enc, en), dec, sizeof dec);
  check(std::string_view(dec, dn) == msg);
  ringside::grpc::percent_decode(msg, dec, sizeof dec);  // arbitrary input must not crash
  return 0;
}
