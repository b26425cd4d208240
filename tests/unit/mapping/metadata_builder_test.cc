// MetadataBuilder: groups (key, value) pairs into one entry per key, values in arrival order,
// in fixed scratch storage that reports overflow instead of growing.
#include "dataplane/mapping/metadata_builder.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace ringside::invoke {
namespace {

// Flattens build() output to "key=v1|v2" strings for readable comparisons.
std::vector<std::string> flatten(std::span<const codec::MetadataEntry> entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) {
    std::string s(e.key);
    s += '=';
    for (size_t i = 0; i < e.values.size(); ++i) {
      if (i) s += '|';
      s += e.values[i];
    }
    out.push_back(s);
  }
  return out;
}

using Strings = std::vector<std::string>;

class MetadataBuilderTest : public testing::Test {
 protected:
  std::unique_ptr<MetadataBuilder> owned = std::make_unique<MetadataBuilder>();  // ~50 KiB
  MetadataBuilder& mb = *owned;
  void SetUp() override { mb.reset(); }
};

TEST_F(MetadataBuilderTest, GroupsByKeyInFirstAppearanceOrderWithValuesInArrivalOrder) {
  ASSERT_TRUE(mb.add("A", "1"));
  ASSERT_TRUE(mb.add("B", "2"));
  ASSERT_TRUE(mb.add("A", "3"));
  ASSERT_TRUE(mb.add("C", "4"));
  ASSERT_TRUE(mb.add("B", "5"));
  ASSERT_TRUE(mb.add("A", "6"));
  EXPECT_EQ(flatten(mb.build()), (Strings{"A=1|3|6", "B=2|5", "C=4"}));
}

TEST_F(MetadataBuilderTest, EmptyBuilderBuildsNothing) {
  EXPECT_TRUE(mb.build().empty());
  EXPECT_FALSE(mb.contains("x"));
}

TEST_F(MetadataBuilderTest, GroupingIsByExactKey) {
  // HTTP keys arrive canonical, gRPC keys lower-case (§5.1): different spellings stay apart.
  mb.add("X-Key", "1");
  mb.add("x-key", "2");
  mb.add("X-Key", "3");
  EXPECT_EQ(flatten(mb.build()), (Strings{"X-Key=1|3", "x-key=2"}));
}

TEST_F(MetadataBuilderTest, EmptyValuesAreKept) {
  mb.add("k", "");
  mb.add("k", "v");
  EXPECT_EQ(flatten(mb.build()), (Strings{"k=|v"}));
  EXPECT_EQ(mb.build()[0].values.size(), 2u);
}

TEST_F(MetadataBuilderTest, RemoveIsCaseInsensitiveAndKeepsTheRestInOrder) {
  mb.add("dapr-caller-app-id", "spoofed");
  mb.add("A", "1");
  mb.add("Dapr-Caller-App-Id", "spoofed2");
  mb.add("B", "2");
  mb.add("DAPR-CALLER-APP-ID", "spoofed3");
  mb.add("A", "3");
  EXPECT_TRUE(mb.contains("dapr-caller-app-id"));
  mb.remove("dapr-caller-app-id");
  EXPECT_FALSE(mb.contains("Dapr-Caller-App-Id"));
  mb.add("dapr-caller-app-id", "me");
  EXPECT_EQ(flatten(mb.build()), (Strings{"A=1|3", "B=2", "dapr-caller-app-id=me"}));
  mb.remove("not-there");
  EXPECT_EQ(mb.build().size(), 3u);
}

TEST_F(MetadataBuilderTest, ContainsIsCaseInsensitive) {
  mb.add("Content-Type", "text/plain");
  EXPECT_TRUE(mb.contains("content-type"));
  EXPECT_TRUE(mb.contains("CONTENT-TYPE"));
  EXPECT_FALSE(mb.contains("content"));
}

TEST_F(MetadataBuilderTest, TooManyPairsReportsOverflowAndKeepsWhatFit) {
  std::vector<std::string> keys;
  for (size_t i = 0; i < MetadataBuilder::kMaxPairs; ++i) {
    keys.push_back(std::to_string(i));
    keys.back().insert(keys.back().begin(), 'k');
  }
  for (size_t i = 0; i < MetadataBuilder::kMaxPairs; ++i) ASSERT_TRUE(mb.add(keys[i], "v")) << i;
  EXPECT_FALSE(mb.add("one-more", "v"));
  auto entries = mb.build();
  ASSERT_EQ(entries.size(), MetadataBuilder::kMaxPairs);  // every key distinct: max entries
  EXPECT_EQ(entries.front().key, "k0");
  EXPECT_EQ(entries.back().key, keys.back());
  // Removing frees room again.
  mb.remove("k0");
  EXPECT_TRUE(mb.add("one-more", "v"));
}

TEST_F(MetadataBuilderTest, OneKeyWithMaxValuesGroupsIntoOneEntry) {
  for (size_t i = 0; i < MetadataBuilder::kMaxPairs; ++i) ASSERT_TRUE(mb.add("same", "v"));
  auto entries = mb.build();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].values.size(), MetadataBuilder::kMaxPairs);
}

TEST_F(MetadataBuilderTest, StoreCopiesTextThatOutlivesTheSource) {
  std::string_view stored;
  {
    std::string temp = "for=127.0.0.1;by=127.0.0.1";
    stored = mb.store(temp);
    temp.assign(temp.size(), 'X');
  }
  EXPECT_EQ(stored, "for=127.0.0.1;by=127.0.0.1");
  mb.add("Forwarded", stored);
  EXPECT_EQ(flatten(mb.build()), (Strings{"Forwarded=for=127.0.0.1;by=127.0.0.1"}));
}

TEST_F(MetadataBuilderTest, TextScratchOverflowIsReported) {
  std::string big(MetadataBuilder::kTextBytes - 10, 'a');
  std::string_view first = mb.store(big);
  EXPECT_EQ(first.size(), big.size());
  EXPECT_EQ(mb.store("0123456789x").size(), 0u);  // 11 > 10 left
  EXPECT_EQ(mb.reserve_text(11), nullptr);
  char* p = mb.reserve_text(10);  // exactly what is left
  ASSERT_NE(p, nullptr);
  std::memcpy(p, "0123456789", 10);
  EXPECT_EQ(mb.reserve_text(1), nullptr);
  EXPECT_EQ(first, big);  // earlier text untouched
  mb.reset();
  EXPECT_NE(mb.reserve_text(MetadataBuilder::kTextBytes), nullptr);
}

TEST_F(MetadataBuilderTest, ResetStartsOver) {
  mb.add("a", "1");
  mb.store("text");
  mb.reset();
  EXPECT_TRUE(mb.build().empty());
  mb.add("b", "2");
  EXPECT_EQ(flatten(mb.build()), (Strings{"b=2"}));
}

TEST_F(MetadataBuilderTest, BuildTwiceGivesTheSameResult) {
  mb.add("a", "1");
  mb.add("b", "2");
  mb.add("a", "3");
  Strings first = flatten(mb.build());
  EXPECT_EQ(flatten(mb.build()), first);
}

}  // namespace
}  // namespace ringside::invoke
