#include "controlplane/resolvers/mdns/dns_message.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace ringside::mdns {
namespace {

DnsName N(const char* dotted) { return DnsName::from_dotted(dotted); }

ResourceRecord Rr(const char* name, uint16_t type, uint32_t ttl = 120) {
  ResourceRecord rr;
  rr.name = N(name);
  rr.type = type;
  rr.ttl = ttl;
  return rr;
}

DnsMessage SampleResponse() {
  DnsMessage m;
  m.flags = kFlagResponse | kFlagAuthoritative;
  ResourceRecord ptr = Rr("myapp.local.", rrtype::kPtr, 3200);
  ptr.ptr = N("myapp.local.").with_prefix_label("host.example:42");  // a dot inside one label
  m.answers.push_back(ptr);
  ResourceRecord srv = Rr("x", rrtype::kSrv, 3200);
  srv.name = ptr.ptr;
  srv.rrclass = kClassIn | kTopClassBit;
  srv.srv.port = 50002;
  srv.srv.target = N("host.local.");
  m.additionals.push_back(srv);
  ResourceRecord txt = Rr("x", rrtype::kTxt, 3200);
  txt.name = ptr.ptr;
  txt.txt = {"myapp", "k=v"};
  m.additionals.push_back(txt);
  ResourceRecord a = Rr("host.local.", rrtype::kA);
  a.address = {198, 51, 100, 7};
  m.additionals.push_back(a);
  ResourceRecord aaaa = Rr("host.local.", rrtype::kAaaa);
  aaaa.address = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  m.additionals.push_back(aaaa);
  ResourceRecord other = Rr("host.local.", 47 /* NSEC */);
  other.raw = {1, 2, 3};
  m.additionals.push_back(other);
  return m;
}

TEST(DnsMessage, RoundTripKeepsEveryField) {
  const DnsMessage in = SampleResponse();
  absl::StatusOr<std::vector<uint8_t>> bytes = build_message(in);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  absl::StatusOr<DnsMessage> out = parse_message(*bytes);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(out->is_response());
  ASSERT_EQ(out->answers.size(), 1u);
  ASSERT_EQ(out->additionals.size(), 5u);
  EXPECT_EQ(out->answers[0].ptr.labels, (std::vector<std::string>{"host.example:42", "myapp", "local"}));
  EXPECT_EQ(out->answers[0].ttl, 3200u);
  const ResourceRecord& srv = out->additionals[0];
  EXPECT_EQ(srv.srv.port, 50002);
  EXPECT_EQ(srv.srv.target.to_string(), "host.local.");
  EXPECT_TRUE(srv.cache_flush());
  EXPECT_EQ(out->additionals[1].txt, (std::vector<std::string>{"myapp", "k=v"}));
  EXPECT_EQ(out->additionals[2].address[0], 198);
  EXPECT_EQ(out->additionals[2].address[3], 7);
  EXPECT_EQ(out->additionals[3].address, in.additionals[3].address);
  EXPECT_EQ(out->additionals[4].raw, (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(out->answers[0].ptr.to_string(), "host\\.example:42.myapp.local.");
}

TEST(DnsMessage, CompressesRepeatedSuffixes) {
  DnsMessage m;
  m.answers.push_back(Rr("a.myapp.local.", rrtype::kA));
  m.answers.push_back(Rr("b.myapp.local.", rrtype::kA));
  absl::StatusOr<std::vector<uint8_t>> bytes = build_message(m);
  ASSERT_TRUE(bytes.ok());
  // header 12; first record: name 1+1+1+5+1+5+1 = 15, fixed 10, rdata 4; second: "b" + pointer
  // = 1+1+2 = 4, fixed 10, rdata 4.
  EXPECT_EQ(bytes->size(), 12u + 15 + 10 + 4 + 4 + 10 + 4);
  // The pointer targets offset 14 ("myapp" of the first name).
  const size_t second = 12 + 15 + 10 + 4;
  EXPECT_EQ((*bytes)[second + 2], 0xC0);
  EXPECT_EQ((*bytes)[second + 3], 14);
  absl::StatusOr<DnsMessage> out = parse_message(*bytes);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->answers[1].name.to_string(), "b.myapp.local.");
}

TEST(DnsMessage, CompressionPreservesSpelling) {
  DnsMessage m;
  m.answers.push_back(Rr("x.LOCAL.", rrtype::kA));
  m.answers.push_back(Rr("y.local.", rrtype::kA));
  absl::StatusOr<std::vector<uint8_t>> bytes = build_message(m);
  ASSERT_TRUE(bytes.ok());
  absl::StatusOr<DnsMessage> out = parse_message(*bytes);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->answers[0].name.labels[1], "LOCAL");
  EXPECT_EQ(out->answers[1].name.labels[1], "local") << "not replaced by a pointer to another spelling";
  EXPECT_TRUE(out->answers[0].name.ends_with(N("local.")));
}

TEST(DnsMessage, ParsesHandWrittenQuery) {
  // A zeroconf-style browse query: id 0, one question PTR myapp.local. IN.
  const std::vector<uint8_t> q = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 'm', 'y', 'a', 'p', 'p',
                                  5, 'l', 'o', 'c', 'a', 'l', 0, 0, 12, 0, 1};
  absl::StatusOr<DnsMessage> m = parse_message(q);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->questions.size(), 1u);
  EXPECT_FALSE(m->is_response());
  EXPECT_EQ(m->questions[0].name.to_string(), "myapp.local.");
  EXPECT_EQ(m->questions[0].type, rrtype::kPtr);
  EXPECT_FALSE(m->questions[0].unicast_response());
}

TEST(DnsMessage, EveryTruncationIsRejected) {
  absl::StatusOr<std::vector<uint8_t>> bytes = build_message(SampleResponse());
  ASSERT_TRUE(bytes.ok());
  for (size_t n = 0; n < bytes->size(); ++n)
    EXPECT_FALSE(parse_message(std::span<const uint8_t>(bytes->data(), n)).ok()) << "prefix of " << n << " bytes";
}

std::vector<uint8_t> OneQuestion(std::vector<uint8_t> name) {
  std::vector<uint8_t> q = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  q.insert(q.end(), name.begin(), name.end());
  q.insert(q.end(), {0, 12, 0, 1});
  return q;
}

TEST(DnsMessage, RejectsPointersThatDoNotPointBackwards) {
  EXPECT_FALSE(parse_message(OneQuestion({0xC0, 12})).ok()) << "pointer to itself";
  EXPECT_FALSE(parse_message(OneQuestion({0xC0, 40})).ok()) << "forward pointer";
  // "a" then a pointer back to "a": a loop through a label.
  EXPECT_FALSE(parse_message(OneQuestion({1, 'a', 0xC0, 12})).ok()) << "loop";
  EXPECT_FALSE(parse_message(OneQuestion({0x80, 1})).ok()) << "reserved label type";
}

TEST(DnsMessage, RejectsOverlongNames) {
  std::vector<uint8_t> name;
  for (int i = 0; i < 5; ++i) {
    name.push_back(63);
    name.insert(name.end(), 63, 'x');
  }
  name.push_back(0);
  EXPECT_FALSE(parse_message(OneQuestion(name)).ok());
  DnsMessage m;
  Question q;
  q.name.labels = {std::string(64, 'x')};
  m.questions.push_back(q);
  EXPECT_FALSE(build_message(m).ok()) << "label over 63 bytes";
}

TEST(DnsMessage, RejectsBadRdata) {
  DnsMessage m;
  ResourceRecord a = Rr("h.local.", 99);
  a.raw = {1, 2, 3, 4, 5};
  m.answers.push_back(a);
  std::vector<uint8_t> bytes = *build_message(m);
  // Relabel the record as A: rdata of 5 bytes must be refused.
  const size_t type_at = 12 + 9;
  bytes[type_at + 1] = rrtype::kA;
  EXPECT_FALSE(parse_message(bytes).ok());
  // As TXT: the string length 1 + 1 fits, then "3" claims 3 bytes but only 2 remain.
  bytes[type_at + 1] = rrtype::kTxt;
  EXPECT_FALSE(parse_message(bytes).ok());
  // rdlength beyond the packet.
  bytes[type_at + 1] = 99;
  bytes[type_at + 9] = 200;
  EXPECT_FALSE(parse_message(bytes).ok());
}

TEST(DnsMessage, RejectsHugeCountsAndMessages) {
  std::vector<uint8_t> q = {0, 0, 0x84, 0, 0, 0, 0x01, 0x01, 0, 0, 0, 0};  // 257 answers claimed
  EXPECT_FALSE(parse_message(q).ok());
  std::vector<uint8_t> big(kMaxMessageBytes + 1, 0);
  EXPECT_FALSE(parse_message(big).ok());
}

TEST(DnsName, ComparesIgnoringCaseAndMatchesSuffixes) {
  EXPECT_TRUE(N("MyApp.Local.") == N("myapp.local"));
  EXPECT_FALSE(N("myapp.local.") == N("other.local."));
  EXPECT_TRUE(N("h:1.myapp.local.").ends_with(N("MYAPP.local")));
  EXPECT_FALSE(N("local.").ends_with(N("myapp.local.")));
  EXPECT_EQ(N("").to_string(), ".");
}

}  // namespace
}  // namespace ringside::mdns
