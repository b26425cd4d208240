// MessageStreamReader: the messages of a streaming call come out whole and in order, however
// the DATA bytes were split; limits and truncation are reported as FramingError.
#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "dataplane/grpc/message_stream_reader.h"

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

std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Feeds `s` (one call); appends every complete message to *out. False on a framing error.
bool feed(MessageStreamReader& r, std::string_view s, std::vector<std::string>* out) {
  std::span<const uint8_t> in = bytes(s);
  for (int guard = 0; guard < 100000; ++guard) {
    std::string_view m;
    switch (r.next(&in, &m)) {
      case MessageStreamReader::Result::kMessage: out->emplace_back(m); break;
      case MessageStreamReader::Result::kNeedMore: return in.empty();
      case MessageStreamReader::Result::kError: return false;
    }
  }
  return false;
}

TEST(MessageStreamReader, SeveralMessagesInOneFeed) {
  mem::ShardPool pool;
  MessageStreamReader r(&pool, 1024);
  std::vector<std::string> got;
  ASSERT_TRUE(feed(r, framed("one") + framed("") + framed("three"), &got));
  EXPECT_EQ(got, (std::vector<std::string>{"one", "", "three"}));
  EXPECT_TRUE(r.between_messages());
  EXPECT_TRUE(r.finish());
}

TEST(MessageStreamReader, EverySplitPointGivesTheSameMessages) {
  const std::string wire = framed("alpha") + framed("") + framed(std::string(300, 'b')) + framed("c");
  const std::vector<std::string> want{"alpha", "", std::string(300, 'b'), "c"};
  mem::ShardPool pool;
  for (size_t cut1 = 0; cut1 <= wire.size(); ++cut1) {
    for (size_t cut2 = cut1; cut2 <= wire.size(); cut2 += 7) {
      MessageStreamReader r(&pool, 1024);
      std::vector<std::string> got;
      ASSERT_TRUE(feed(r, std::string_view(wire).substr(0, cut1), &got));
      ASSERT_TRUE(feed(r, std::string_view(wire).substr(cut1, cut2 - cut1), &got));
      ASSERT_TRUE(feed(r, std::string_view(wire).substr(cut2), &got));
      ASSERT_EQ(got, want) << "cuts at " << cut1 << ", " << cut2;
      EXPECT_TRUE(r.finish());
    }
  }
}

TEST(MessageStreamReader, ByteByByte) {
  const std::string wire = framed("hello") + framed("world");
  mem::ShardPool pool;
  MessageStreamReader r(&pool, 64);
  std::vector<std::string> got;
  for (char ch : wire) ASSERT_TRUE(feed(r, std::string_view(&ch, 1), &got));
  EXPECT_EQ(got, (std::vector<std::string>{"hello", "world"}));
  EXPECT_TRUE(r.finish());
}

TEST(MessageStreamReader, MessageAtTheLimitIsAcceptedOneAboveIsRefusedBeforeItsBody) {
  mem::ShardPool pool;
  MessageStreamReader ok(&pool, 10);
  std::vector<std::string> got;
  ASSERT_TRUE(feed(ok, framed(std::string(10, 'x')), &got));
  ASSERT_EQ(got.size(), 1u);

  MessageStreamReader big(&pool, 10);
  // Only the prefix arrives: the declared length alone is enough to refuse.
  EXPECT_FALSE(feed(big, framed(std::string(11, 'x')).substr(0, kMessagePrefixSize), &got));
  EXPECT_EQ(big.error(), FramingError::kTooLarge);
  // The reader stays failed.
  EXPECT_FALSE(feed(big, framed("a"), &got));
  EXPECT_FALSE(big.finish());
}

TEST(MessageStreamReader, CompressedAndBadFlagsAreErrors) {
  mem::ShardPool pool;
  std::vector<std::string> got;
  MessageStreamReader c(&pool, 64);
  EXPECT_FALSE(feed(c, framed("x", 1), &got));
  EXPECT_EQ(c.error(), FramingError::kCompressed);
  MessageStreamReader b(&pool, 64);
  EXPECT_FALSE(feed(b, framed("x") + framed("y", 7), &got));
  EXPECT_EQ(b.error(), FramingError::kBadFlag);
  EXPECT_EQ(got, (std::vector<std::string>{"x"}));  // the good message before it came out
}

TEST(MessageStreamReader, EndInsidePrefixOrBodyIsTruncated) {
  mem::ShardPool pool;
  std::vector<std::string> got;
  MessageStreamReader in_prefix(&pool, 64);
  ASSERT_TRUE(feed(in_prefix, framed("ok") + framed("abc").substr(0, 3), &got));
  EXPECT_FALSE(in_prefix.between_messages());
  EXPECT_FALSE(in_prefix.finish());
  EXPECT_EQ(in_prefix.error(), FramingError::kTruncated);

  MessageStreamReader in_body(&pool, 64);
  ASSERT_TRUE(feed(in_body, framed("abcdef").substr(0, 8), &got));
  EXPECT_FALSE(in_body.finish());
  EXPECT_EQ(in_body.error(), FramingError::kTruncated);

  MessageStreamReader nothing(&pool, 64);
  EXPECT_TRUE(nothing.finish());  // zero messages is a valid stream at this level
}

TEST(MessageStreamReader, ResetStartsAFreshStream) {
  mem::ShardPool pool;
  MessageStreamReader r(&pool, 4);
  std::vector<std::string> got;
  EXPECT_FALSE(feed(r, framed("too long"), &got));
  r.reset();
  ASSERT_TRUE(feed(r, framed("ok"), &got));
  EXPECT_EQ(got, (std::vector<std::string>{"ok"}));
}

}  // namespace
}  // namespace ringside::grpc
