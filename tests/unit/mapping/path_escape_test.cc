// append_method_path: the path of the request toward the app is "/" + method with bytes that may
// not appear raw in a path percent-encoded (upper-case hex), everything path-safe left alone.
#include "dataplane/mapping/path_escape.h"

#include <gtest/gtest.h>

#include <string>

namespace ringside::invoke {
namespace {

std::string escaped(std::string_view method) {
  mem::ShardPool pool;
  mem::Buffer out(&pool);
  EXPECT_TRUE(append_method_path(&out, method));
  return std::string(out.view());
}

TEST(PathEscape, PrefixesASlashOnlyWhenMissing) {
  EXPECT_EQ(escaped("orders"), "/orders");
  EXPECT_EQ(escaped("/orders"), "/orders");
  EXPECT_EQ(escaped("v1/orders/42"), "/v1/orders/42");
  EXPECT_EQ(escaped(""), "/");
  EXPECT_EQ(escaped("//x"), "//x");
}

TEST(PathEscape, EscapesSpacePercentQuestionMarkAndHash) {
  EXPECT_EQ(escaped("a b"), "/a%20b");
  EXPECT_EQ(escaped("100%"), "/100%25");
  EXPECT_EQ(escaped("%41"), "/%2541");  // an existing escape is not trusted: it is data
  EXPECT_EQ(escaped("q?x=1"), "/q%3Fx=1");
  EXPECT_EQ(escaped("frag#top"), "/frag%23top");
  EXPECT_EQ(escaped(" ?#%"), "/%20%3F%23%25");
}

TEST(PathEscape, KeepsUnreservedSubDelimsColonAtAndSlash) {
  const std::string safe =
      "abcxyzABCXYZ0189-._~!$&'()*+,;=:@/";
  EXPECT_EQ(escaped(safe), "/" + safe);
}

TEST(PathEscape, EscapesControlNonAsciiAndOtherUnsafeBytes) {
  EXPECT_EQ(escaped(std::string_view("\x00", 1)), "/%00");
  EXPECT_EQ(escaped("\x01\x1f\x7f"), "/%01%1F%7F");
  EXPECT_EQ(escaped("\r\n"), "/%0D%0A");  // never a raw CR/LF in the request line
  EXPECT_EQ(escaped("caf\xc3\xa9"), "/caf%C3%A9");
  EXPECT_EQ(escaped("\xff"), "/%FF");
  EXPECT_EQ(escaped("\"<>\\^`{|}"), "/%22%3C%3E%5C%5E%60%7B%7C%7D");
}

TEST(PathEscape, EveryByteIsEitherKeptOrEscapedAndDecodesBack) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  std::string out = escaped(all);
  ASSERT_EQ(out[0], '/');
  std::string decoded;
  for (size_t i = 1; i < out.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(out[i]);
    EXPECT_TRUE(c > 0x20 && c < 0x7f) << "raw byte " << int(c) << " in output";
    EXPECT_NE(c, '?');
    EXPECT_NE(c, '#');
    EXPECT_NE(c, ' ');
    if (c == '%') {
      ASSERT_LT(i + 2, out.size());
      decoded.push_back(static_cast<char>(std::stoi(out.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      decoded.push_back(static_cast<char>(c));
    }
  }
  EXPECT_EQ(decoded, all);
}

TEST(PathEscape, AppendsAfterExistingContent) {
  mem::ShardPool pool;
  mem::Buffer out(&pool);
  out.append("GET ");
  ASSERT_TRUE(append_method_path(&out, "a b"));
  out.append(" HTTP/1.1");
  EXPECT_EQ(out.view(), "GET /a%20b HTTP/1.1");
}

}  // namespace
}  // namespace ringside::invoke
