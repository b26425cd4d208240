// Wire primitives: varints, tags, lengths, unknown-field skipping; and the UTF-8 check.
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/stubs/common.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "dataplane/codec/utf8.h"
#include "dataplane/codec/wire.h"

namespace ringside::codec {
namespace {

using wire::Reader;
using wire::WireType;

std::string_view sv(const uint8_t* b, size_t n) { return {reinterpret_cast<const char*>(b), n}; }

TEST(CodecWire, VarintRoundTripsAndMatchesLibprotobufSizes) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 100000; ++i) {
    uint64_t v = rng() >> (rng() % 64);
    uint8_t buf[10];
    uint8_t* end = wire::write_varint(v, buf);
    ASSERT_EQ(static_cast<size_t>(end - buf), wire::varint_size(v));
    ASSERT_EQ(wire::varint_size(v), google::protobuf::io::CodedOutputStream::VarintSize64(v));
    Reader r(sv(buf, end - buf));
    uint64_t got;
    ASSERT_TRUE(r.read_varint(&got));
    ASSERT_EQ(got, v);
    ASSERT_TRUE(r.at_end());
  }
}

TEST(CodecWire, NegativeInt32TakesTenBytes) {
  EXPECT_EQ(wire::varint_size(wire::int32_wire(-1)), 10u);
  EXPECT_EQ(wire::varint_size(wire::int32_wire(INT32_MIN)), 10u);
  EXPECT_EQ(wire::varint_size(wire::int32_wire(INT32_MAX)), 5u);
}

TEST(CodecWire, VarintRejectsTruncationAndMoreThanTenBytes) {
  const uint8_t truncated[] = {0x80, 0x80};
  uint64_t v;
  Reader a(sv(truncated, 2));
  EXPECT_FALSE(a.read_varint(&v));
  uint8_t eleven[11];
  std::fill(eleven, eleven + 10, 0x80);
  eleven[10] = 0x01;
  Reader b(sv(eleven, 11));
  EXPECT_FALSE(b.read_varint(&v));
  eleven[9] = 0x7f;  // ten bytes, extra high bits dropped like libprotobuf
  Reader c(sv(eleven, 10));
  EXPECT_TRUE(c.read_varint(&v));
  EXPECT_EQ(v, uint64_t{1} << 63);
}

TEST(CodecWire, TagRules) {
  uint32_t f;
  WireType wt;
  const uint8_t ok[] = {0x1a};
  Reader a(sv(ok, 1));
  ASSERT_TRUE(a.read_tag(&f, &wt));
  EXPECT_EQ(f, 3u);
  EXPECT_EQ(wt, WireType::kLen);
  for (uint8_t bad : {uint8_t{0x00}, uint8_t{0x02}, uint8_t{0x0e}, uint8_t{0x0f}}) {
    Reader r(sv(&bad, 1));
    EXPECT_FALSE(r.read_tag(&f, &wt)) << int(bad);
  }
  const uint8_t max_field[] = {0xf8, 0xff, 0xff, 0xff, 0x0f};
  Reader m(sv(max_field, 5));
  ASSERT_TRUE(m.read_tag(&f, &wt));
  EXPECT_EQ(f, (1u << 29) - 1);
  const uint8_t six[] = {0x88, 0x80, 0x80, 0x80, 0x80, 0x00};
  Reader s(sv(six, 6));
  EXPECT_FALSE(s.read_tag(&f, &wt));
}

TEST(CodecWire, LengthMustFitTheView) {
  std::string_view out;
  const uint8_t fits[] = {0x02, 'a', 'b'};
  Reader a(sv(fits, 3));
  ASSERT_TRUE(a.read_len(&out));
  EXPECT_EQ(out, "ab");
  EXPECT_TRUE(a.at_end());
  Reader b(sv(fits, 2));
  EXPECT_FALSE(b.read_len(&out));
  const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 0x07};
  Reader c(sv(huge, 5));
  EXPECT_FALSE(c.read_len(&out));
}

TEST(CodecWire, SkipsEveryWireTypeAndNestedGroups) {
  // varint, fixed64, len, fixed32, group{varint, group{}}
  const uint8_t msg[] = {0x08, 0x96, 0x01, 0x11, 1, 2, 3, 4, 5, 6, 7, 8, 0x1a, 0x01, 'x',
                         0x25, 1, 2, 3, 4, 0x2b, 0x08, 0x01, 0x33, 0x34, 0x2c};
  Reader r(sv(msg, sizeof msg));
  int fields = 0;
  while (!r.at_end()) {
    uint32_t f;
    WireType wt;
    ASSERT_TRUE(r.read_tag(&f, &wt));
    ASSERT_TRUE(r.skip(f, wt, 0));
    ++fields;
  }
  EXPECT_EQ(fields, 5);
}

TEST(CodecWire, GroupDepthIsLimited) {
  auto nested = [](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += '\x0b';
    for (int i = 0; i < n; ++i) s += '\x0c';
    return s;
  };
  for (int n : {1, 100, 101}) {
    std::string s = nested(n);
    Reader r(s);
    uint32_t f;
    WireType wt;
    ASSERT_TRUE(r.read_tag(&f, &wt));
    EXPECT_EQ(r.skip(f, wt, 0), n <= wire::kMaxDepth) << n;
  }
}

TEST(CodecWire, WritersProduceTheExpectedBytes) {
  uint8_t buf[32];
  uint8_t* e = wire::write_bytes_field(1, "hi", buf);
  EXPECT_EQ(sv(buf, e - buf), std::string_view("\x0a\x02hi", 4));
  e = wire::write_varint_field(2, 300, buf);
  EXPECT_EQ(sv(buf, e - buf), std::string_view("\x10\xac\x02", 3));
  EXPECT_EQ(wire::len_field_size(1, 200), 1u + 2u + 200u);
}

TEST(CodecUtf8, AcceptsWellFormedAndRejectsTheRest) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii long enough for the fast path"));
  EXPECT_TRUE(is_valid_utf8("ü日本🚀"));
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));      // U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));             // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));         // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));         // surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));     // > U+10FFFF
  EXPECT_FALSE(is_valid_utf8("abc\xe6\x97"));          // truncated
  EXPECT_FALSE(is_valid_utf8("abcdefgh\x80"));         // stray continuation after fast path
}

TEST(CodecUtf8, AgreesWithLibprotobufOnRandomInput) {
  std::mt19937_64 rng(2);
  for (int i = 0; i < 200000; ++i) {
    std::string s(rng() % 12, '\0');
    for (auto& c : s) {
      uint64_t r = rng();
      c = static_cast<char>((r & 3) == 0 ? (r >> 8) % 0x80 : 0x80 + (r >> 8) % 0x80);
    }
    ASSERT_EQ(is_valid_utf8(s), google::protobuf::internal::IsStructurallyValidUTF8(s.data(), int(s.size())))
        << ::testing::PrintToString(s);
  }
}

}  // namespace
}  // namespace ringside::codec
