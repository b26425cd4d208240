// The mdns resolver over real multicast between network namespaces: two resolvers (as two
// sidecars would run them) on one bridge, and two in one namespace (multicast loop). Needs
// root for `ip netns`; without it the tests fail, they do not skip.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

#include "controlplane/resolvers/mdns/mdns_resolver.h"
#include "tests/e2e/mdns/netns_helpers.h"

namespace ringside::mdns_test {
namespace {

using namespace std::chrono_literals;
using Publish = RecordingSink::Publish;


auto NonEmpty() {
  return [](const Publish& p) { return !p.addresses.empty(); };
}
auto Empty() {
  return [](const Publish& p) { return p.addresses.empty(); };
}

TEST(MdnsResolverNetns, FindsAResolverInAnotherNamespaceAndForgetsItOnGoodbye) {
  auto lab = NetnsLab::Create(2);
  ASSERT_TRUE(lab.ok()) << lab.status();
  RecordingSink sink_a, sink_b;
  auto alpha = StartIn((*lab)->host(1), Self("alpha", NetnsLab::address(1), 50002, "nodeone"), &sink_a);
  auto beta = StartIn((*lab)->host(2), Self("beta", NetnsLab::address(2), 50003, "nodetwo"), &sink_b);
  ASSERT_TRUE(alpha && beta);

  const auto asked = std::chrono::steady_clock::now();
  beta->lookup("alpha", "default");
  std::optional<Publish> found = sink_b.WaitFor("alpha", NonEmpty(), kWait);
  ASSERT_TRUE(found.has_value()) << sink_b.Describe();
  EXPECT_EQ(found->addresses, std::vector<std::string>{"198.51.100.1:50002"});
  std::printf("[ MEASURE  ] mdns lookup answered in %.2f ms\n",
              std::chrono::duration<double, std::milli>(found->at - asked).count());

  alpha->lookup("beta", "");
  found = sink_a.WaitFor("beta", NonEmpty(), kWait);
  ASSERT_TRUE(found.has_value()) << sink_a.Describe();
  EXPECT_EQ(found->addresses, std::vector<std::string>{"198.51.100.2:50003"});

  // Nobody serves "gamma": after the first browse window the answer is "none found".
  beta->lookup("gamma", "");
  std::optional<Publish> none = sink_b.WaitFor("gamma", [](const Publish&) { return true; }, kWait);
  ASSERT_TRUE(none.has_value()) << sink_b.Describe();
  EXPECT_TRUE(none->addresses.empty());

  // alpha leaves: its goodbye empties beta's view of it at once (not after 60 s).
  const size_t before = sink_b.count();
  alpha->stop();
  std::optional<Publish> gone = sink_b.WaitFor("alpha", Empty(), kWait, before);
  EXPECT_TRUE(gone.has_value()) << sink_b.Describe();
  beta->stop();
}

TEST(MdnsResolverNetns, TwoResolversInOneNamespaceShareThePort) {
  auto lab = NetnsLab::Create(1);
  ASSERT_TRUE(lab.ok()) << lab.status();
  RecordingSink sink_a, sink_b;
  auto alpha = StartIn((*lab)->host(1), Self("alpha", NetnsLab::address(1), 50002, "node"), &sink_a);
  auto beta = StartIn((*lab)->host(1), Self("beta", NetnsLab::address(1), 50003, "node"), &sink_b);
  ASSERT_TRUE(alpha && beta);
  beta->lookup("alpha", "");
  std::optional<Publish> found = sink_b.WaitFor("alpha", NonEmpty(), kWait);
  ASSERT_TRUE(found.has_value()) << sink_b.Describe();
  EXPECT_EQ(found->addresses, std::vector<std::string>{"198.51.100.1:50002"});
  alpha->lookup("beta", "");
  found = sink_a.WaitFor("beta", NonEmpty(), kWait);
  ASSERT_TRUE(found.has_value()) << sink_a.Describe();
  EXPECT_EQ(found->addresses, std::vector<std::string>{"198.51.100.1:50003"});
}

TEST(MdnsResolverNetns, LoopbackAddressesStayOnLoopback) {
  // The default registered address (ADR 0001) is 127.0.0.1: two sidecars of one host find each
  // other over the loopback interface, and nothing is announced on the LAN.
  auto lab = NetnsLab::Create(2);
  ASSERT_TRUE(lab.ok()) << lab.status();
  RecordingSink sink_a, sink_b, sink_lan;
  auto alpha = StartIn((*lab)->host(1), Self("alpha", "127.0.0.1", 50002, "node"), &sink_a);
  auto beta = StartIn((*lab)->host(1), Self("beta", "127.0.0.1", 50003, "node"), &sink_b);
  auto lan = StartIn((*lab)->host(2), Self("lan", NetnsLab::address(2), 50002, "other"), &sink_lan);
  ASSERT_TRUE(alpha && beta && lan);
  beta->lookup("alpha", "");
  std::optional<Publish> found = sink_b.WaitFor("alpha", NonEmpty(), kWait);
  ASSERT_TRUE(found.has_value()) << sink_b.Describe();
  EXPECT_EQ(found->addresses, std::vector<std::string>{"127.0.0.1:50002"});
  lan->lookup("alpha", "");
  std::optional<Publish> from_lan = sink_lan.WaitFor("alpha", [](const Publish&) { return true; }, kWait);
  ASSERT_TRUE(from_lan.has_value()) << sink_lan.Describe();
  EXPECT_TRUE(from_lan->addresses.empty()) << "a loopback announcement leaked onto the bridge";
}

TEST(MdnsResolverNetns, TwoInstancesOfOneAppAreBothPublished) {
  auto lab = NetnsLab::Create(3);
  ASSERT_TRUE(lab.ok()) << lab.status();
  RecordingSink sink_1, sink_2, sink_3;
  // Same host name in both (one machine, two namespaces), different addresses.
  auto one = StartIn((*lab)->host(1), Self("alpha", NetnsLab::address(1), 50002, "node"), &sink_1);
  auto two = StartIn((*lab)->host(2), Self("alpha", NetnsLab::address(2), 50002, "node"), &sink_2);
  auto caller = StartIn((*lab)->host(3), Self("caller", NetnsLab::address(3), 50002, "node"), &sink_3);
  ASSERT_TRUE(one && two && caller);
  caller->lookup("alpha", "");
  // The first answer is published at once; the browse goes on and the second instance follows.
  std::optional<Publish> both = sink_3.WaitFor("alpha", [](const Publish& p) { return p.addresses.size() == 2; }, kWait);
  ASSERT_TRUE(both.has_value()) << sink_3.Describe();
  std::vector<std::string> got = both->addresses;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"198.51.100.1:50002", "198.51.100.2:50002"}));
}

TEST(MdnsResolverNetns, AnswersLegacyUnicastQueries) {
  // A plain DNS client (`dig -p 5353 @224.0.0.251 alpha.local. PTR`) queries from an ephemeral
  // port: the answer comes back to that port as ordinary DNS (RFC 6762 §6.7).
  auto lab = NetnsLab::Create(2);
  ASSERT_TRUE(lab.ok()) << lab.status();
  RecordingSink sink;
  auto alpha = StartIn((*lab)->host(1), Self("alpha", NetnsLab::address(1), 50002, "nodeone"), &sink);
  ASSERT_TRUE(alpha);
  InNetns in((*lab)->host(2));
  ASSERT_TRUE(in.ok()) << in.error();
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  timeval tv{3, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  mdns::DnsMessage query = mdns::browse_query(mdns::service_name_for("alpha"));
  query.id = 0x4242;
  absl::StatusOr<std::vector<uint8_t>> bytes = mdns::build_message(query);
  ASSERT_TRUE(bytes.ok());
  sockaddr_in group{};
  group.sin_family = AF_INET;
  group.sin_port = htons(5353);
  inet_pton(AF_INET, "224.0.0.251", &group.sin_addr);
  ASSERT_EQ(sendto(fd, bytes->data(), bytes->size(), 0, reinterpret_cast<sockaddr*>(&group), sizeof(group)),
            static_cast<ssize_t>(bytes->size()))
      << std::strerror(errno);
  std::vector<uint8_t> buf(9000);
  const ssize_t n = recv(fd, buf.data(), buf.size(), 0);
  close(fd);
  ASSERT_GT(n, 0) << "no unicast answer: " << std::strerror(errno);
  absl::StatusOr<mdns::DnsMessage> reply = mdns::parse_message(std::span<const uint8_t>(buf.data(), static_cast<size_t>(n)));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->id, 0x4242);
  ASSERT_EQ(reply->questions.size(), 1u);
  EXPECT_EQ(reply->questions[0].name.to_string(), "alpha.local.");
  ASSERT_FALSE(reply->answers.empty());
  EXPECT_EQ(reply->answers[0].ptr.to_string(), "nodeone:" + std::to_string(getpid()) + ".alpha.local.");
  for (const mdns::ResourceRecord& rr : reply->additionals) {
    EXPECT_LE(rr.ttl, 10u) << rr.name.to_string();
    EXPECT_FALSE(rr.cache_flush()) << rr.name.to_string();
  }
}

TEST(MdnsResolverNetns, StartFailsOnAHostNameAddressAndUnknownInterface) {
  auto lab = NetnsLab::Create(1);
  ASSERT_TRUE(lab.ok()) << lab.status();
  InNetns in((*lab)->host(1));
  ASSERT_TRUE(in.ok()) << in.error();
  RecordingSink sink;
  mdns::MdnsResolver by_name(mdns::MdnsOptions{});
  absl::Status s = by_name.start(Self("alpha", "node.example", 50002, "node"), &sink);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("not an IP address"), std::string_view::npos) << s;
  mdns::MdnsOptions only;
  only.interfaces = {"eth0", "nosuch0"};
  mdns::MdnsResolver wrong_if(only);
  s = wrong_if.start(Self("alpha", NetnsLab::address(1), 50002, "node"), &sink);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("spec.nameResolution.configuration.interfaces[1]"), std::string_view::npos) << s;
}

}  // namespace
}  // namespace ringside::mdns_test
