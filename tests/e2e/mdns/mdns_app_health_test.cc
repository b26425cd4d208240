// Issue 10 (app health) on the mdns resolver, over real multicast between network namespaces:
// set_serving(false) sends a goodbye (peers drop us at once) and stops answering queries, so a
// new lookup finds nothing; set_serving(true) announces us again and peers see us come back.
// Needs root for `ip netns`; fails, never skips, without it.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "controlplane/resolvers/mdns/mdns_resolver.h"
#include "tests/e2e/mdns/netns_helpers.h"

namespace ringside::mdns_test {
namespace {

using namespace std::chrono_literals;
using Publish = RecordingSink::Publish;


TEST(MdnsAppHealthNetns, WithdrawSaysGoodbyeAndRestoreAnnouncesAgain) {
  auto lab = NetnsLab::Create(3);
  ASSERT_TRUE(lab.ok()) << lab.status();
  RecordingSink sink_a, sink_b, sink_c;
  auto alpha = StartIn((*lab)->host(1), Self("alpha", NetnsLab::address(1), 50002, "nodeone"), &sink_a);
  auto beta = StartIn((*lab)->host(2), Self("beta", NetnsLab::address(2), 50003, "nodetwo"), &sink_b);
  ASSERT_TRUE(alpha && beta);
  const auto non_empty = [](const Publish& p) { return !p.addresses.empty(); };
  const auto empty = [](const Publish& p) { return p.addresses.empty(); };

  beta->lookup("alpha", "");
  ASSERT_TRUE(sink_b.WaitFor("alpha", non_empty, kWait).has_value()) << sink_b.Describe();

  // alpha's app turns unhealthy: beta drops it at once (goodbye), not after the 60 s TTL.
  size_t before = sink_b.count();
  ASSERT_TRUE(alpha->set_serving(false).ok());
  ASSERT_TRUE(sink_b.WaitFor("alpha", empty, kWait, before).has_value()) << sink_b.Describe();
  // A sidecar that starts now and looks alpha up gets no answer: "none found".
  auto gamma = StartIn((*lab)->host(3), Self("gamma", NetnsLab::address(3), 50004, "nodethree"), &sink_c);
  ASSERT_TRUE(gamma);
  gamma->lookup("alpha", "");
  std::optional<Publish> none = sink_c.WaitFor("alpha", [](const Publish&) { return true; }, kWait);
  ASSERT_TRUE(none.has_value()) << sink_c.Describe();
  EXPECT_TRUE(none->addresses.empty()) << sink_c.Describe();

  // Healthy again: the announcement reaches beta, which still tracks alpha.
  before = sink_b.count();
  ASSERT_TRUE(alpha->set_serving(true).ok());
  std::optional<Publish> back = sink_b.WaitFor("alpha", non_empty, kWait, before);
  ASSERT_TRUE(back.has_value()) << sink_b.Describe();
  EXPECT_EQ(back->addresses, std::vector<std::string>{"198.51.100.1:50002"});
  gamma->stop();
  beta->stop();
  alpha->stop();
}

}  // namespace
}  // namespace ringside::mdns_test
