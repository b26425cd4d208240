// Small pure helpers: numbers, %-decoding, path cleaning, method normalization, canonical header
// keys, verbs, reason phrases, base64.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dataplane/http1/base64.h"
#include "dataplane/http1/canonical_header_key.h"
#include "dataplane/http1/method_normalize.h"
#include "dataplane/http1/number.h"
#include "dataplane/http1/path_clean.h"
#include "dataplane/http1/percent_decode.h"
#include "dataplane/http1/reason_phrase.h"
#include "dataplane/http1/verb.h"

namespace ringside::http1 {
namespace {

TEST(Number, ParseDecimal) {
  uint64_t v = 7;
  EXPECT_TRUE(parse_decimal_u64("0", &v));
  EXPECT_EQ(v, 0u);
  EXPECT_TRUE(parse_decimal_u64("18446744073709551615", &v));
  EXPECT_EQ(v, UINT64_MAX);
  EXPECT_FALSE(parse_decimal_u64("18446744073709551616", &v));
  EXPECT_FALSE(parse_decimal_u64("", &v));
  EXPECT_FALSE(parse_decimal_u64("1a", &v));
  EXPECT_FALSE(parse_decimal_u64(" 1", &v));
  EXPECT_FALSE(parse_decimal_u64("-1", &v));
}

TEST(Number, ParseHex) {
  uint64_t v = 0;
  EXPECT_TRUE(parse_hex_u64("fF", &v));
  EXPECT_EQ(v, 255u);
  EXPECT_TRUE(parse_hex_u64("ffffffffffffffff", &v));
  EXPECT_EQ(v, UINT64_MAX);
  EXPECT_FALSE(parse_hex_u64("10000000000000000", &v));
  EXPECT_FALSE(parse_hex_u64("", &v));
  EXPECT_FALSE(parse_hex_u64("0x1", &v));
}

TEST(Number, Format) {
  char buf[kMaxDecimalDigits];
  EXPECT_EQ(std::string(buf, format_decimal(0, buf)), "0");
  EXPECT_EQ(std::string(buf, format_decimal(1234567890, buf)), "1234567890");
  EXPECT_EQ(std::string(buf, format_decimal(UINT64_MAX, buf)), "18446744073709551615");
  EXPECT_EQ(std::string(buf, format_hex(0, buf)), "0");
  EXPECT_EQ(std::string(buf, format_hex(0xabc, buf)), "abc");
  EXPECT_EQ(std::string(buf, format_hex(UINT64_MAX, buf)), "ffffffffffffffff");
}

std::string path_dec(std::string_view in, bool* ok) {
  std::vector<char> out(in.size());
  std::string_view d;
  *ok = percent_decode_path(in, out, &d);
  return std::string(d);
}

TEST(PercentDecode, PathAndQueryForms) {
  bool ok;
  EXPECT_EQ(path_dec("/a%2Fb%20c+d", &ok), "/a/b c+d");
  EXPECT_TRUE(ok);
  EXPECT_EQ(path_dec("%e2%82%AC", &ok), "\xe2\x82\xac");
  EXPECT_TRUE(ok);
  for (const char* bad : {"%", "%2", "%zz", "a%g0", "%%"}) {
    path_dec(bad, &ok);
    EXPECT_FALSE(ok) << bad;
    EXPECT_FALSE(has_valid_percent_escapes(bad)) << bad;
  }
  EXPECT_TRUE(has_valid_percent_escapes("/ok%41"));
  char out[32];
  std::string_view q;
  ASSERT_TRUE(query_unescape("http%3A%2F%2Fhost+x", out, &q));
  EXPECT_EQ(q, "http://host x");
  EXPECT_FALSE(query_unescape("toolong", std::span<char>(out, 3), &q));
}

std::string clean(std::string_view in) {
  std::vector<char> out(in.size() + 1);
  return std::string(path_clean(in, out));
}

TEST(PathClean, MatchesGoPathClean) {
  // Cases from Go's path/path_test.go.
  const std::pair<const char*, const char*> cases[] = {
      {"", "."}, {"abc", "abc"}, {"abc/def", "abc/def"}, {"a/b/c", "a/b/c"}, {".", "."},
      {"..", ".."}, {"../..", "../.."}, {"../../abc", "../../abc"}, {"/abc", "/abc"}, {"/", "/"},
      {"abc/", "abc"}, {"abc/def/", "abc/def"}, {"a/b/c/", "a/b/c"}, {"./", "."}, {"../", ".."},
      {"../../", "../.."}, {"/abc/", "/abc"}, {"abc//def//ghi", "abc/def/ghi"}, {"//abc", "/abc"},
      {"///abc", "/abc"}, {"//abc//", "/abc"}, {"abc//", "abc"}, {"abc/./def", "abc/def"},
      {"/./abc/def", "/abc/def"}, {"abc/.", "abc"}, {"abc/def/ghi/../jkl", "abc/def/jkl"},
      {"abc/def/../ghi/../jkl", "abc/jkl"}, {"abc/def/..", "abc"}, {"abc/def/../..", "."},
      {"/abc/def/../..", "/"}, {"abc/def/../../..", ".."}, {"/abc/def/../../..", "/"},
      {"abc/def/../../../ghi/jkl/../../../mno", "../../mno"}, {"abc/./../def", "def"},
      {"abc//./../def", "def"}, {"abc/../../././../def", "../../def"}, {"/..", "/"},
      {"/../a", "/a"}, {"..a/.b", "..a/.b"}, {"a/...", "a/..."}};
  for (auto [in, want] : cases) EXPECT_EQ(clean(in), want) << in;
}

TEST(PathClean, KeepTrailingSlashAndRooted) {
  char out[64];
  EXPECT_EQ(path_clean_keep_trailing_slash("/a/b/", out), "/a/b/");
  EXPECT_EQ(path_clean_keep_trailing_slash("/a//b/../", out), "/a/");
  EXPECT_EQ(path_clean_keep_trailing_slash("/", out), "/");
  EXPECT_EQ(path_clean_keep_trailing_slash("//", out), "/");
  EXPECT_EQ(path_clean_keep_trailing_slash("/a/b", out), "/a/b");
  EXPECT_EQ(path_clean_rooted("../a", out), "/a");
  EXPECT_EQ(path_clean_rooted("", out), "/");
  EXPECT_EQ(path_clean_rooted("/x", out), "/x");
  EXPECT_EQ(path_clean("abc", std::span<char>(out, 2)), "");  // too small
}

std::string norm(std::string_view m, MethodCheck* check) {
  std::vector<char> out(m.size() + 1);
  std::string_view n;
  *check = normalize_method(m, out, &n);
  return std::string(n);
}

TEST(MethodNormalize, ResolvesDotSegments) {
  MethodCheck c;
  const std::pair<const char*, const char*> cases[] = {
      {"hello", "hello"}, {"a/b", "a/b"}, {".", ""}, {"..", ""}, {"../a", "a"},
      {"../../a/b", "a/b"}, {"a/../b", "b"}, {"a/./b", "a/b"}, {"a//b", "a/b"},
      {"/a", "a"}, {"a/", "a/"}, {"a/b/../", "a/"}, {"", ""}, {"/", ""}, {"a/..", ""},
      {"v1/users%20x", "v1/users%20x"}};
  for (auto [in, want] : cases) {
    EXPECT_EQ(norm(in, &c), want) << in;
    EXPECT_EQ(c, MethodCheck::kOk) << in;
  }
}

TEST(MethodNormalize, RejectsForbiddenCharacters) {
  MethodCheck c;
  for (std::string bad : std::initializer_list<std::string>{"a#b", "a?b", std::string("a\0b", 3), "a\x01", "\x1f", "a\x7f", "tab\there",
                          "line\nbreak"}) {
    norm(bad, &c);
    EXPECT_EQ(c, MethodCheck::kInvalid) << bad;
  }
  std::string_view n;
  char small[2];
  EXPECT_EQ(normalize_method("abc", small, &n), MethodCheck::kNoSpace);
}

TEST(CanonicalHeaderKey, MatchesGo) {
  char out[64];
  const std::pair<const char*, const char*> cases[] = {
      {"x-my-header", "X-My-Header"}, {"content-type", "Content-Type"}, {"CONTENT-TYPE", "Content-Type"},
      {"Content-Type", "Content-Type"}, {"a-b-c", "A-B-C"}, {"foo--bar", "Foo--Bar"},
      {"user-agent", "User-Agent"}, {"dapr-app-id", "Dapr-App-Id"}, {"x", "X"}, {"-x", "-X"},
      {"1abc", "1abc"}, {"wWW-aUTHENTICATE", "Www-Authenticate"},
      // Invalid bytes: left unchanged.
      {"bad key", "bad key"}, {"bad:key", "bad:key"}, {"ÿ-x", "ÿ-x"}};
  for (auto [in, want] : cases) EXPECT_EQ(canonical_header_key(in, out), want) << in;
  // Already canonical: the input view itself comes back (no copy).
  std::string_view already = "X-Ok";
  EXPECT_EQ(canonical_header_key(already, out).data(), already.data());
}

TEST(Verb, MapsLikeDapr) {
  EXPECT_EQ(verb_from_method("GET"), Verb::kGet);
  EXPECT_EQ(verb_from_method("get"), Verb::kGet);
  EXPECT_EQ(verb_from_method("Patch"), Verb::kPatch);
  EXPECT_EQ(verb_from_method("HEAD"), Verb::kHead);
  EXPECT_EQ(verb_from_method("DELETE"), Verb::kDelete);
  EXPECT_EQ(verb_from_method("CONNECT"), Verb::kConnect);
  EXPECT_EQ(verb_from_method("OPTIONS"), Verb::kOptions);
  EXPECT_EQ(verb_from_method("TRACE"), Verb::kTrace);
  EXPECT_EQ(verb_from_method("PUT"), Verb::kPut);
  EXPECT_EQ(verb_from_method("PROPFIND"), Verb::kPost);
  EXPECT_EQ(verb_from_method(""), Verb::kPost);
  EXPECT_EQ(verb_from_method("none"), Verb::kNone);
  EXPECT_EQ(static_cast<int>(Verb::kPatch), 9);
  EXPECT_EQ(verb_name(Verb::kDelete), "DELETE");
  EXPECT_EQ(verb_name(Verb::kNone), "NONE");
  EXPECT_EQ(verb_name(static_cast<Verb>(42)), "POST");
}

TEST(ReasonPhrase, GoTable) {
  EXPECT_EQ(reason_phrase(200), "OK");
  EXPECT_EQ(reason_phrase(404), "Not Found");
  EXPECT_EQ(reason_phrase(413), "Request Entity Too Large");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(599), "");
}

std::string enc(std::string_view s) {
  std::vector<char> out(base64_encoded_size(s.size()));
  size_t n = base64_encode({reinterpret_cast<const uint8_t*>(s.data()), s.size()}, out);
  return std::string(out.data(), n);
}

bool dec(std::string_view s, std::string* got, Base64Padding p = Base64Padding::kRequired) {
  std::vector<uint8_t> out(base64_decoded_max_size(s.size()));
  size_t n;
  bool ok = base64_decode(s, out, &n, p);
  got->assign(out.begin(), out.begin() + static_cast<long>(n));
  return ok;
}

TEST(Base64, RoundTripAndRfcVectors) {
  const std::pair<const char*, const char*> v[] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="},
                                                   {"foo", "Zm9v"}, {"foob", "Zm9vYg=="},
                                                   {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (auto [plain, coded] : v) {
    EXPECT_EQ(enc(plain), coded);
    std::string got;
    EXPECT_TRUE(dec(coded, &got)) << coded;
    EXPECT_EQ(got, plain);
  }
  std::string got;
  EXPECT_TRUE(dec("ZGFwci1hcHAtaWQ6bXlhcHA=", &got));
  EXPECT_EQ(got, "dapr-app-id:myapp");
  EXPECT_TRUE(dec("Zh==", &got));  // leftover bits ignored (Go non-strict)
  EXPECT_EQ(got, "f");
}

TEST(Base64, RejectsMalformed) {
  std::string got;
  for (const char* bad : {"Zg", "Zg=", "Z===", "====", "Zm9v=", "Zm9v====", "Zm!v", "Zg==Zg==", "Z"}) {
    EXPECT_FALSE(dec(bad, &got)) << bad;
  }
  EXPECT_TRUE(dec("Zg", &got, Base64Padding::kOptional));
  EXPECT_EQ(got, "f");
  EXPECT_TRUE(dec("Zm8", &got, Base64Padding::kOptional));
  EXPECT_EQ(got, "fo");
  EXPECT_FALSE(dec("Z", &got, Base64Padding::kOptional));
  uint8_t small[1];
  size_t n;
  EXPECT_FALSE(base64_decode("Zm9v", small, &n));
  char tiny[2];
  const uint8_t data[] = {1, 2, 3};
  EXPECT_EQ(base64_encode(data, tiny), 0u);
}

}  // namespace
}  // namespace ringside::http1
