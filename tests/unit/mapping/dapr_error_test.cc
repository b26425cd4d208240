// Dapr's JSON error body {"errorCode":"…","message":"…"} (spec §5.7): whatever the message
// contains (quotes, backslashes, control bytes from upstream error texts), the body must parse as
// JSON and give back exactly the text that went in.
#include "dataplane/mapping/dapr_error.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>

namespace ringside::invoke {
namespace {

// A strict parser for a flat JSON object of string values (what the error body is). Returns
// nullopt on anything that is not valid JSON of that shape.
class FlatJson {
 public:
  static std::optional<std::map<std::string, std::string>> parse(std::string_view s) {
    FlatJson p{s};
    std::map<std::string, std::string> out;
    if (!p.eat('{')) return std::nullopt;
    if (p.eat('}')) return p.at_end() ? std::optional(out) : std::nullopt;
    for (;;) {
      auto k = p.string();
      if (!k || !p.eat(':')) return std::nullopt;
      auto v = p.string();
      if (!v) return std::nullopt;
      out[*k] = *v;
      if (p.eat(',')) continue;
      if (p.eat('}')) break;
      return std::nullopt;
    }
    return p.at_end() ? std::optional(out) : std::nullopt;
  }

 private:
  explicit FlatJson(std::string_view s) : s_(s) {}
  bool eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool at_end() const { return i_ == s_.size(); }
  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  std::optional<std::string> string() {
    if (!eat('"')) return std::nullopt;
    std::string out;
    while (i_ < s_.size()) {
      unsigned char c = static_cast<unsigned char>(s_[i_++]);
      if (c == '"') return out;
      if (c < 0x20) return std::nullopt;  // raw control characters are invalid JSON
      if (c != '\\') {
        out.push_back(static_cast<char>(c));
        continue;
      }
      if (i_ >= s_.size()) return std::nullopt;
      char e = s_[i_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          if (i_ + 4 > s_.size()) return std::nullopt;
          int v = 0;
          for (int k = 0; k < 4; ++k) {
            int h = hex(s_[i_++]);
            if (h < 0) return std::nullopt;
            v = v * 16 + h;
          }
          if (v >= 0x80) return std::nullopt;  // the escaper only needs ASCII escapes
          out.push_back(static_cast<char>(v));
          break;
        }
        default:
          return std::nullopt;
      }
    }
    return std::nullopt;  // unterminated
  }
  std::string_view s_;
  size_t i_ = 0;
};

std::string error_body(std::string_view code, std::string_view message) {
  mem::ShardPool pool;
  mem::Buffer out(&pool);
  EXPECT_TRUE(append_dapr_error_json(&out, code, message));
  return std::string(out.view());
}

std::string escaped(std::string_view s) {
  mem::ShardPool pool;
  mem::Buffer out(&pool);
  EXPECT_TRUE(append_json_escaped(&out, s));
  return std::string(out.view());
}

TEST(DaprError, PlainMessageHasTheDaprShape) {
  EXPECT_EQ(error_body(kErrDirectInvoke, "invoke API is not ready"),
            R"({"errorCode":"ERR_DIRECT_INVOKE","message":"invoke API is not ready"})");
}

TEST(DaprError, QuotesAndBackslashesAreEscapedAndParseBack) {
  const std::string msg = R"(failed to invoke, id: "app\1", err: path C:\x "q")";
  std::string body = error_body(kErrDirectInvoke, msg);
  auto parsed = FlatJson::parse(body);
  ASSERT_TRUE(parsed) << body;
  EXPECT_EQ((*parsed)["errorCode"], "ERR_DIRECT_INVOKE");
  EXPECT_EQ((*parsed)["message"], msg);
  EXPECT_EQ(parsed->size(), 2u);
  EXPECT_EQ(escaped(R"(a"b\c)"), R"(a\"b\\c)");
}

TEST(DaprError, ControlCharactersAreEscapedAndParseBack) {
  EXPECT_EQ(escaped("a\nb\rc\td"), R"(a\nb\rc\td)");
  EXPECT_EQ(escaped(std::string_view("\x00\x01\x1f", 3)), R"(\u0000\u0001\u001f)");
  std::string every_control;
  for (int c = 0; c < 0x20; ++c) every_control.push_back(static_cast<char>(c));
  std::string body = error_body("ERR_X", every_control);
  auto parsed = FlatJson::parse(body);
  ASSERT_TRUE(parsed) << body;
  EXPECT_EQ((*parsed)["message"], every_control);
}

TEST(DaprError, EveryByteRoundTrips) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  all += "tail \"quoted\" \\ end";
  std::string body = error_body("ERR_\"CODE\"", all);
  auto parsed = FlatJson::parse(body);
  ASSERT_TRUE(parsed) << body;
  EXPECT_EQ((*parsed)["errorCode"], "ERR_\"CODE\"");
  EXPECT_EQ((*parsed)["message"], all);
}

TEST(DaprError, Utf8PassesThroughUnchanged) {
  EXPECT_EQ(escaped("h\xc3\xa9llo \xe2\x9c\x93"), "h\xc3\xa9llo \xe2\x9c\x93");
}

TEST(DaprError, EmptyMessage) {
  EXPECT_EQ(error_body("ERR_DIRECT_INVOKE", ""), R"({"errorCode":"ERR_DIRECT_INVOKE","message":""})");
  EXPECT_EQ(escaped(""), "");
}

TEST(DaprError, AppendsAfterExistingContent) {
  mem::ShardPool pool;
  mem::Buffer out(&pool);
  out.append("HEAD\r\n\r\n");
  ASSERT_TRUE(append_dapr_error_json(&out, "E", "m"));
  EXPECT_EQ(out.view(), "HEAD\r\n\r\n{\"errorCode\":\"E\",\"message\":\"m\"}");
}

TEST(DaprError, TheTestParserRejectsInvalidJson) {
  // Guards the round-trip tests above against a parser that accepts anything.
  EXPECT_FALSE(FlatJson::parse("{\"a\":\"b\nc\"}"));
  EXPECT_FALSE(FlatJson::parse("{\"a\":\"b\\q\"}"));
  EXPECT_FALSE(FlatJson::parse("{\"a\":\"b\"\"}"));
  EXPECT_FALSE(FlatJson::parse("{\"a\":\"b\""));
  EXPECT_TRUE(FlatJson::parse("{\"a\":\"b\\u0041\"}"));
}

}  // namespace
}  // namespace ringside::invoke
