// The codec is on the request path: decoding, iterating and encoding must never reach the
// global allocator (BRIEF §7). This binary links the counting allocator of dataplane/mem.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dataplane/codec/invoke_messages.h"
#include "dataplane/codec/stream_messages.h"
#include "dataplane/mem/alloc_probe.h"

namespace ringside::codec {
namespace {

const std::string_view kValues[] = {"application/json", "text/plain"};
const MetadataEntry kMetadata[] = {{"accept", kValues}, {"dapr-caller-app-id", std::span(kValues, 1)}};
const AnyFields kDetails[] = {{"type.googleapis.com/google.rpc.ErrorInfo", "x", true}};

TEST(CodecAlloc, DecodeIterateAndEncodeDoNotAllocate) {
  InternalInvokeRequestFields rq;
  rq.metadata = kMetadata;
  rq.message = {"orders/1", {"", "{}", true}, "application/json", true, 3, "a=1"};
  InternalInvokeResponseFields rs;
  rs.status = {13, "boom", kDetails};
  rs.headers = kMetadata;
  rs.trailers = kMetadata;
  std::vector<uint8_t> buf(4096);  // storage prepared before measuring

  uint64_t before = mem::thread_heap_allocations();
  size_t n = 0;
  uint8_t* end = encode(rq, buf.data());
  ASSERT_EQ(static_cast<size_t>(end - buf.data()), encoded_size(rq));
  std::string_view wire(reinterpret_cast<const char*>(buf.data()), end - buf.data());
  InternalInvokeRequestView v;
  ASSERT_TRUE(decode_internal_invoke_request(wire, &v));
  v.for_each_metadata([&](std::string_view k, std::string_view x) { n += k.size() + x.size(); });

  end = encode(rs, buf.data());
  wire = std::string_view(reinterpret_cast<const char*>(buf.data()), end - buf.data());
  InternalInvokeResponseView w;
  ASSERT_TRUE(decode_internal_invoke_response(wire, &w));
  w.for_each_header([&](std::string_view k, std::string_view x) { n += k.size() + x.size(); });
  w.status.for_each_detail([&](const AnyView& a) { n += a.value.size(); });

  InternalInvokeRequestStreamFields chunk{&rq, true, {"chunk", 0}};
  end = encode(chunk, buf.data());
  InternalInvokeRequestStreamView sv;
  ASSERT_TRUE(decode_internal_invoke_request_stream(
      std::string_view(reinterpret_cast<const char*>(buf.data()), end - buf.data()), &sv));
  sv.request.for_each_metadata([&](std::string_view k, std::string_view x) { n += k.size(); });
  uint64_t after = mem::thread_heap_allocations();

  EXPECT_EQ(after - before, 0u);
  EXPECT_GT(n, 0u);
}

// Control: the probe does see allocations in this binary.
TEST(CodecAlloc, ProbeCountsAllocations) {
  uint64_t before = mem::thread_heap_allocations();
  auto* p = new std::vector<int>(100);
  uint64_t after = mem::thread_heap_allocations();
  delete p;
  EXPECT_GE(after - before, 1u);
}

}  // namespace
}  // namespace ringside::codec
