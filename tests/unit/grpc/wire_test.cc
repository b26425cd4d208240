// Pure gRPC wire pieces: framing reassembly, grpc-timeout, status tables, grpc-message encoding.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "dataplane/grpc/framing.h"
#include "dataplane/grpc/header_store.h"
#include "dataplane/grpc/message_encoding.h"
#include "dataplane/grpc/metadata.h"
#include "dataplane/grpc/status.h"
#include "dataplane/grpc/timeout.h"

namespace ringside::grpc {
namespace {

std::string framed(std::string_view msg, uint8_t flag = 0) {
  uint8_t p[kMessagePrefixSize];
  write_message_prefix(static_cast<uint32_t>(msg.size()), p);
  p[0] = flag;
  std::string out(reinterpret_cast<char*>(p), sizeof p);
  out.append(msg);
  return out;
}

bool feed(UnaryMessageReader& r, std::string_view s) {
  return r.feed(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

TEST(Framing, PrefixIsFlagThenBigEndianLength) {
  uint8_t p[kMessagePrefixSize];
  write_message_prefix(0x01020304, p);
  EXPECT_EQ(p[0], 0);
  EXPECT_EQ(p[1], 1);
  EXPECT_EQ(p[2], 2);
  EXPECT_EQ(p[3], 3);
  EXPECT_EQ(p[4], 4);
}

TEST(Framing, ReassemblesAcrossEveryChunkBoundary) {
  mem::ShardPool pool;
  std::string wire = framed("hello, world");
  for (size_t split = 0; split <= wire.size(); ++split) {
    UnaryMessageReader r(&pool, 1024);
    ASSERT_TRUE(feed(r, std::string_view(wire).substr(0, split)));
    ASSERT_TRUE(feed(r, std::string_view(wire).substr(split)));
    ASSERT_TRUE(r.finish()) << split;
    EXPECT_EQ(r.message(), "hello, world");
  }
}

TEST(Framing, ByteAtATime) {
  mem::ShardPool pool;
  UnaryMessageReader r(&pool, 1024);
  std::string wire = framed("abc");
  for (char c : wire) ASSERT_TRUE(feed(r, std::string_view(&c, 1)));
  EXPECT_TRUE(r.complete());
  EXPECT_EQ(r.message(), "abc");
}

TEST(Framing, EmptyMessageIsValid) {
  mem::ShardPool pool;
  UnaryMessageReader r(&pool, 1024);
  ASSERT_TRUE(feed(r, framed("")));
  EXPECT_TRUE(r.finish());
  EXPECT_EQ(r.message(), "");
}

TEST(Framing, RejectsCompressedFlag) {
  mem::ShardPool pool;
  UnaryMessageReader r(&pool, 1024);
  EXPECT_FALSE(feed(r, framed("x", 1)));
  EXPECT_EQ(r.error(), FramingError::kCompressed);
  EXPECT_STREQ(framing_error_text(r.error()), "compression not supported");
}

TEST(Framing, RejectsUnknownFlag) {
  mem::ShardPool pool;
  UnaryMessageReader r(&pool, 1024);
  EXPECT_FALSE(feed(r, framed("x", 7)));
  EXPECT_EQ(r.error(), FramingError::kBadFlag);
}

TEST(Framing, RejectsOversizeBeforeBufferingBody) {
  mem::ShardPool pool;
  UnaryMessageReader r(&pool, 4);
  std::string wire = framed("12345");
  EXPECT_FALSE(feed(r, wire.substr(0, kMessagePrefixSize)));
  EXPECT_EQ(r.error(), FramingError::kTooLarge);
  EXPECT_FALSE(feed(r, "more"));  // sticky
}

// Issue 10: a prefix declaring 4 GiB (or any size up to the limit) is a claim, not bytes.
// The reader holds memory for what arrived, so a peer declaring big messages on many streams
// and sending nothing costs the callee nothing; the truncated message still fails cleanly.
TEST(Framing, HugeDeclaredLengthReservesOnlyWhatArrives) {
  mem::ShardPool pool;
  UnaryMessageReader r(&pool, 0xffffffffu);
  std::string wire("\0\xff\xff\xff\xff", 5);
  wire.append(100, 'x');
  EXPECT_TRUE(feed(r, wire));
  // At most the block that fits 8 times what arrived (issue 11's growth step), not 4 GiB.
  EXPECT_LE(r.held_bytes(), 2048u);
  EXPECT_FALSE(r.finish());
  EXPECT_EQ(r.error(), FramingError::kTruncated);
}

TEST(Framing, MemoryGrowsWithArrivedBytesUpToTheMessage) {
  mem::ShardPool pool;
  UnaryMessageReader r(&pool, 16u << 20);
  const std::string body(4u << 20, 'm');
  const std::string wire = framed(body);
  // 64 KiB of a declared 4 MiB: at most the block that fits 8 times that is held (the buffer
  // grows in steps of 8 times what arrived, issue 11), not the declared size.
  EXPECT_TRUE(feed(r, wire.substr(0, 5 + (64u << 10))));
  EXPECT_LE(r.held_bytes(), size_t{1} << 20);
  EXPECT_TRUE(feed(r, wire.substr(5 + (64u << 10))));
  ASSERT_TRUE(r.finish());
  EXPECT_EQ(r.message(), body);
  EXPECT_LE(r.held_bytes(), size_t{8} << 20);  // one block that fits the message, as before
}

// Issue 11: each growth copies what arrived so far. A 1 MiB message arriving in 16 KiB DATA
// chunks takes 2 blocks (128 KiB after the first chunk, then the message's own), where
// doubling from the first bytes took 8 and copied about the whole body once more; a 64 KiB
// message fits the first block.
TEST(Framing, AMessageArrivingInFramesGrowsInFewSteps) {
  for (size_t size : {size_t{64} << 10, size_t{1} << 20}) {
    mem::ShardPool pool;
    UnaryMessageReader r(&pool, 8u << 20);
    const std::string body(size, 'f');
    const std::string wire = framed(body);
    const uint64_t before = pool.stats().allocs;
    for (size_t off = 0; off < wire.size(); off += 16384) EXPECT_TRUE(feed(r, wire.substr(off, 16384)));
    ASSERT_TRUE(r.finish());
    EXPECT_EQ(r.message(), body);
    EXPECT_LE(pool.stats().allocs - before, size == (size_t{64} << 10) ? 1u : 2u) << size;
  }
}

TEST(Framing, ABodyAboveThePoolsLargestBlockFailsCleanly) {
  mem::ShardPool pool;
  UnaryMessageReader r(&pool, 0xffffffffu);
  std::string wire("\0\xff\xff\xff\xff", 5);
  EXPECT_TRUE(feed(r, wire));
  const std::string mib(1u << 20, 'z');
  bool ok = true;
  for (int i = 0; i < 80 && ok; ++i) ok = feed(r, mib);  // the pool's largest block is 64 MiB
  EXPECT_FALSE(ok);
  EXPECT_EQ(r.error(), FramingError::kNoMemory);
}

TEST(Framing, SecondMessageIsAnError) {
  mem::ShardPool pool;
  UnaryMessageReader r(&pool, 1024);
  std::string two = framed("a");
  two.append(framed("b"));
  EXPECT_FALSE(feed(r, two));
  EXPECT_EQ(r.error(), FramingError::kTooManyMessages);
}

TEST(Framing, TruncatedAndMissing) {
  mem::ShardPool pool;
  {
    UnaryMessageReader r(&pool, 1024);
    ASSERT_TRUE(feed(r, framed("abcdef").substr(0, 8)));
    EXPECT_FALSE(r.finish());
    EXPECT_EQ(r.error(), FramingError::kTruncated);
  }
  {
    UnaryMessageReader r(&pool, 1024);
    ASSERT_TRUE(feed(r, std::string("\0\0", 2)));
    EXPECT_FALSE(r.finish());
    EXPECT_EQ(r.error(), FramingError::kTruncated);
  }
  {
    UnaryMessageReader r(&pool, 1024);
    EXPECT_FALSE(r.finish());
    EXPECT_EQ(r.error(), FramingError::kMissing);
  }
}

TEST(Framing, ResetAllowsReuse) {
  mem::ShardPool pool;
  UnaryMessageReader r(&pool, 1024);
  EXPECT_FALSE(feed(r, framed("x", 9)));
  r.reset();
  ASSERT_TRUE(feed(r, framed("ok")));
  EXPECT_EQ(r.message(), "ok");
}

TEST(Timeout, ParsesAllUnits) {
  int64_t ns = 0;
  ASSERT_TRUE(parse_grpc_timeout("1H", &ns));
  EXPECT_EQ(ns, 3'600'000'000'000);
  ASSERT_TRUE(parse_grpc_timeout("2M", &ns));
  EXPECT_EQ(ns, 120'000'000'000);
  ASSERT_TRUE(parse_grpc_timeout("3S", &ns));
  EXPECT_EQ(ns, 3'000'000'000);
  ASSERT_TRUE(parse_grpc_timeout("250m", &ns));
  EXPECT_EQ(ns, 250'000'000);
  ASSERT_TRUE(parse_grpc_timeout("7u", &ns));
  EXPECT_EQ(ns, 7'000);
  ASSERT_TRUE(parse_grpc_timeout("99999999n", &ns));
  EXPECT_EQ(ns, 99'999'999);
  ASSERT_TRUE(parse_grpc_timeout("0m", &ns));
  EXPECT_EQ(ns, 0);
}

TEST(Timeout, SaturatesHugeHours) {
  int64_t ns = 0;
  ASSERT_TRUE(parse_grpc_timeout("99999999H", &ns));
  EXPECT_EQ(ns, std::numeric_limits<int64_t>::max());
}

TEST(Timeout, RejectsMalformed) {
  int64_t ns = 0;
  for (const char* bad : {"", "S", "10", "123456789S", "1x", "-1S", "1 S", "1.5S", "1s", "١S"}) {
    EXPECT_FALSE(parse_grpc_timeout(bad, &ns)) << bad;
  }
}

TEST(Timeout, FormatsInFinestFittingUnitRoundingUp) {
  char out[16];
  auto fmt = [&](int64_t ns) { return std::string(out, format_grpc_timeout(ns, out)); };
  EXPECT_EQ(fmt(5), "5n");
  EXPECT_EQ(fmt(99'999'999), "99999999n");
  EXPECT_EQ(fmt(100'000'000), "100000u");
  EXPECT_EQ(fmt(100'000'001), "100001u");  // rounded up
  EXPECT_EQ(fmt(1'000'000'000'000), "1000000m");
  EXPECT_EQ(fmt(0), "1n");
  EXPECT_EQ(fmt(std::numeric_limits<int64_t>::max()), "2562048H");
}

TEST(Timeout, FormatParseRoundTripNeverShortens) {
  char out[16];
  for (int64_t ns : {int64_t{1}, int64_t{999}, int64_t{123'456'789}, int64_t{5'000'000'000},
                     int64_t{86'400'000'000'000}}) {
    int64_t back = 0;
    ASSERT_TRUE(parse_grpc_timeout(std::string_view(out, format_grpc_timeout(ns, out)), &back));
    EXPECT_GE(back, ns);
    EXPECT_LE(back - ns, ns / 1000 + 1000);
  }
}

TEST(Status, DaprTables) {
  EXPECT_EQ(http_status_from_grpc(0), 200);
  EXPECT_EQ(http_status_from_grpc(1), 408);
  EXPECT_EQ(http_status_from_grpc(4), 504);
  EXPECT_EQ(http_status_from_grpc(8), 429);
  EXPECT_EQ(http_status_from_grpc(9), 400);
  EXPECT_EQ(http_status_from_grpc(12), 501);
  EXPECT_EQ(http_status_from_grpc(14), 503);
  EXPECT_EQ(http_status_from_grpc(16), 401);
  EXPECT_EQ(http_status_from_grpc(17), 500);
  EXPECT_EQ(http_status_from_grpc(-1), 500);
  EXPECT_EQ(grpc_code_from_http(204), 0);
  EXPECT_EQ(grpc_code_from_http(400), 13);
  EXPECT_EQ(grpc_code_from_http(404), 5);
  EXPECT_EQ(grpc_code_from_http(409), 6);
  EXPECT_EQ(grpc_code_from_http(503), 14);
  EXPECT_EQ(grpc_code_from_http(302), 2);
  EXPECT_EQ(grpc_code_from_http(418), 2);
}

TEST(Status, TransportAndResetMappings) {
  EXPECT_EQ(grpc_code_from_transport_http(404), 12);
  EXPECT_EQ(grpc_code_from_transport_http(503), 14);
  EXPECT_EQ(grpc_code_from_transport_http(500), 2);
  EXPECT_EQ(grpc_code_from_h2_error(0x7), 14);
  EXPECT_EQ(grpc_code_from_h2_error(0x8), 1);
  EXPECT_EQ(grpc_code_from_h2_error(0x1), 13);
}

TEST(Status, ParseAndFormat) {
  int code = -1;
  EXPECT_TRUE(parse_grpc_status("14", &code));
  EXPECT_EQ(code, 14);
  EXPECT_FALSE(parse_grpc_status("", &code));
  EXPECT_FALSE(parse_grpc_status("1a", &code));
  EXPECT_FALSE(parse_grpc_status("-1", &code));
  char out[12];
  EXPECT_EQ(std::string(out, format_grpc_status(16, out)), "16");
  EXPECT_EQ(std::string(out, format_grpc_status(0, out)), "0");
}

TEST(MessageEncoding, EncodesPercentAndNonPrintable) {
  std::string msg = "50% off\n\xc3\xa9";
  std::string out(percent_encoded_size(msg), '\0');
  ASSERT_EQ(percent_encode(msg, out.data(), out.size()), out.size());
  EXPECT_EQ(out, "50%25 off%0A%C3%A9");
  std::string back(out.size(), '\0');
  back.resize(percent_decode(out, back.data(), back.size()));
  EXPECT_EQ(back, msg);
}

TEST(MessageEncoding, EncodeFailsWhenTooSmall) {
  char out[2];
  EXPECT_EQ(percent_encode("%", out, sizeof out), 0u);
}

TEST(MessageEncoding, MalformedEscapesStayLiteral) {
  for (std::string in : {"100%", "%G1x", "%4", "%%41"}) {
    std::string out(in.size(), '\0');
    out.resize(percent_decode(in, out.data(), out.size()));
    if (in == "%%41") {
      EXPECT_EQ(out, "%A");
    } else {
      EXPECT_EQ(out, in);
    }
  }
}

TEST(Metadata, ReservedHeaders) {
  EXPECT_TRUE(is_reserved_header(":path"));
  EXPECT_TRUE(is_reserved_header("content-type"));
  EXPECT_TRUE(is_reserved_header("te"));
  EXPECT_TRUE(is_reserved_header("grpc-timeout"));
  EXPECT_TRUE(is_reserved_header("grpc-status"));
  EXPECT_FALSE(is_reserved_header("user-agent"));
  EXPECT_FALSE(is_reserved_header("dapr-app-id"));
  EXPECT_FALSE(is_reserved_header("grpc-trace-bin"));
}

TEST(HeaderStore, KeepsPairsInOrderAcrossGrowth) {
  mem::ShardPool pool;
  HeaderStore store(&pool);
  for (int i = 0; i < 100; ++i) {
    std::string key = "k";
    key.append(std::to_string(i));
    ASSERT_TRUE(store.add(key, std::string(i, 'v')));
  }
  std::span<const Metadata> md;
  ASSERT_TRUE(store.materialize(&md));
  ASSERT_EQ(md.size(), 100u);
  EXPECT_EQ(md[42].key, "k42");
  EXPECT_EQ(md[42].value, std::string(42, 'v'));
}

}  // namespace
}  // namespace ringside::grpc
