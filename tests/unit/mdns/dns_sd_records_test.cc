#include "controlplane/resolvers/mdns/dns_sd_records.h"

#include <gtest/gtest.h>

namespace ringside::mdns {
namespace {

ServiceAnnouncement Sample(Ipv4Bytes v4 = {198, 51, 100, 10}) {
  ServiceAnnouncement a;
  a.service = service_name_for("myapp");
  a.instance = a.service.with_prefix_label("box:4242");
  a.host = DnsName::from_dotted("box.local.");
  a.port = 50002;
  a.ipv4 = {v4};
  a.txt = {"myapp"};
  return a;
}

// Through the wire and back, as a peer would see it.
DnsMessage Wire(const DnsMessage& m) {
  absl::StatusOr<std::vector<uint8_t>> bytes = build_message(m);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  absl::StatusOr<DnsMessage> back = parse_message(*bytes);
  EXPECT_TRUE(back.ok()) << back.status();
  return *back;
}

const ResourceRecord* Find(const std::vector<ResourceRecord>& rrs, uint16_t type) {
  for (const ResourceRecord& rr : rrs)
    if (rr.type == type) return &rr;
  return nullptr;
}

TEST(DnsSdRecords, AnnouncementCarriesDaprdFields) {
  const DnsMessage m = Wire(announcement_message(Sample(), kServiceTtlSeconds));
  EXPECT_TRUE(m.is_response());
  const ResourceRecord* ptr = nullptr;
  for (const ResourceRecord& rr : m.answers)
    if (rr.type == rrtype::kPtr && rr.name == service_name_for("myapp")) ptr = &rr;
  ASSERT_NE(ptr, nullptr);
  EXPECT_EQ(ptr->ptr.to_string(), "box:4242.myapp.local.");
  const ResourceRecord* srv = Find(m.answers, rrtype::kSrv);
  ASSERT_NE(srv, nullptr);
  EXPECT_EQ(srv->srv.port, 50002);
  EXPECT_EQ(srv->srv.target.to_string(), "box.local.");
  EXPECT_EQ(srv->ttl, kServiceTtlSeconds);
  const ResourceRecord* txt = Find(m.answers, rrtype::kTxt);
  ASSERT_NE(txt, nullptr);
  EXPECT_EQ(txt->txt, std::vector<std::string>{"myapp"});
  const ResourceRecord* a = Find(m.answers, rrtype::kA);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->name.to_string(), "box.local.");
  EXPECT_EQ(a->ttl, kHostTtlSeconds);
  EXPECT_EQ(a->address[0], 198);
}

TEST(DnsSdRecords, GoodbyeHasTtlZeroEverywhere) {
  const DnsMessage m = Wire(announcement_message(Sample(), 0));
  ASSERT_FALSE(m.answers.empty());
  for (const ResourceRecord& rr : m.answers) EXPECT_EQ(rr.ttl, 0u) << rr.name.to_string();
}

TEST(DnsSdRecords, AnswersBrowseWithPtrAndExtras) {
  std::optional<DnsMessage> r = answer_for(Sample(), Wire(browse_query(service_name_for("MYAPP"))));
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->answers.size(), 1u);
  EXPECT_EQ(r->answers[0].type, rrtype::kPtr);
  EXPECT_NE(Find(r->additionals, rrtype::kSrv), nullptr);
  EXPECT_NE(Find(r->additionals, rrtype::kTxt), nullptr);
  EXPECT_NE(Find(r->additionals, rrtype::kA), nullptr);
  EXPECT_EQ(r->id, 0);
}

TEST(DnsSdRecords, IgnoresOtherServicesProbesAndResponses) {
  const ServiceAnnouncement a = Sample();
  EXPECT_FALSE(answer_for(a, browse_query(service_name_for("other"))).has_value());
  DnsMessage probe = browse_query(a.instance);
  probe.authorities.push_back(announcement_message(a, 120).answers[0]);
  EXPECT_FALSE(answer_for(a, probe).has_value());
  DnsMessage response = browse_query(a.service);
  response.flags = kFlagResponse;
  EXPECT_FALSE(answer_for(a, response).has_value());
}

TEST(DnsSdRecords, KnownAnswerSuppression) {
  const ServiceAnnouncement a = Sample();
  DnsMessage q = browse_query(a.service);
  ResourceRecord known;
  known.name = a.service;
  known.type = rrtype::kPtr;
  known.ptr = a.instance;
  known.ttl = kServiceTtlSeconds;  // fresh: suppress
  q.answers.push_back(known);
  EXPECT_FALSE(answer_for(a, Wire(q)).has_value());
  q.answers[0].ttl = 10;  // nearly expired: answer again
  EXPECT_TRUE(answer_for(a, Wire(q)).has_value());
}

TEST(DnsSdRecords, AnswersInstanceHostAndEnumerationQuestions) {
  const ServiceAnnouncement a = Sample();
  DnsMessage q;
  q.questions.push_back(Question{a.instance, rrtype::kSrv, kClassIn});
  q.questions.push_back(Question{a.host, rrtype::kA, kClassIn});
  q.questions.push_back(Question{service_enumeration_name(), rrtype::kPtr, kClassIn});
  std::optional<DnsMessage> r = answer_for(a, Wire(q));
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(Find(r->answers, rrtype::kSrv), nullptr);
  EXPECT_NE(Find(r->answers, rrtype::kA), nullptr);
  bool enumerated = false;
  for (const ResourceRecord& rr : r->answers)
    enumerated = enumerated || (rr.type == rrtype::kPtr && rr.ptr == a.service);
  EXPECT_TRUE(enumerated);
}

TEST(BrowseCollector, AssemblesAnAnnouncedInstance) {
  BrowseCollector c(service_name_for("myapp"));
  c.add(Wire(announcement_message(Sample(), kServiceTtlSeconds)));
  std::vector<BrowsedInstance> got = c.instances();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].port, 50002);
  EXPECT_EQ(got[0].txt, std::vector<std::string>{"myapp"});
  ASSERT_EQ(got[0].ipv4.size(), 1u);
  EXPECT_EQ(got[0].ipv4[0], (Ipv4Bytes{198, 51, 100, 10}));
  EXPECT_FALSE(got[0].goodbye);
  c.add(Wire(announcement_message(Sample(), 0)));
  EXPECT_TRUE(c.instances()[0].goodbye);
}

TEST(BrowseCollector, KeepsAddressesPerPacketForASharedHostName) {
  // Two sidecars in two namespaces of one machine: same host name, different addresses.
  ServiceAnnouncement one = Sample({198, 51, 100, 1});
  ServiceAnnouncement two = Sample({198, 51, 100, 2});
  two.instance = two.service.with_prefix_label("box:777");
  BrowseCollector c(service_name_for("myapp"));
  c.add(Wire(announcement_message(one, kServiceTtlSeconds)));
  c.add(Wire(announcement_message(two, kServiceTtlSeconds)));
  std::vector<BrowsedInstance> got = c.instances();
  ASSERT_EQ(got.size(), 2u);
  const std::vector<Ipv4Bytes> first = {Ipv4Bytes{198, 51, 100, 1}};
  const std::vector<Ipv4Bytes> second = {Ipv4Bytes{198, 51, 100, 2}};
  EXPECT_EQ(got[0].ipv4, first);
  EXPECT_EQ(got[1].ipv4, second);
}

TEST(BrowseCollector, IgnoresOtherServicesAndDeeperNames) {
  BrowseCollector c(service_name_for("myapp"));
  ServiceAnnouncement other = Sample();
  other.service = service_name_for("other");
  other.instance = other.service.with_prefix_label("box:1");
  c.add(Wire(announcement_message(other, kServiceTtlSeconds)));
  ServiceAnnouncement deep = Sample();
  deep.instance = deep.service.with_prefix_label("x").with_prefix_label("y");
  c.add(Wire(announcement_message(deep, kServiceTtlSeconds)));
  EXPECT_TRUE(c.instances().empty());
}

TEST(BrowseCollector, LateAddressesFillAnInstanceWithoutAny) {
  ServiceAnnouncement a = Sample();
  DnsMessage records = announcement_message(a, kServiceTtlSeconds);
  DnsMessage addresses = records;
  std::erase_if(records.answers, [](const ResourceRecord& rr) { return rr.type == rrtype::kA; });
  std::erase_if(addresses.answers, [](const ResourceRecord& rr) { return rr.type != rrtype::kA; });
  BrowseCollector c(a.service);
  c.add(Wire(records));
  ASSERT_EQ(c.instances().size(), 1u);
  EXPECT_TRUE(c.instances()[0].ipv4.empty());
  c.add(Wire(addresses));
  EXPECT_EQ(c.instances()[0].ipv4.size(), 1u);
}

}  // namespace
}  // namespace ringside::mdns
