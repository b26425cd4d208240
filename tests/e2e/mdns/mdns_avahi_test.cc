// Interop with an independent mDNS stack: Debian's avahi-daemon in its own namespace (private
// dbus-daemon, private /run/avahi-daemon), on the same bridge as the resolver.
//  (a) records published by avahi exactly as daprd announces them are found by our querier;
//  (b) avahi's cache holds ringside's announcement with the fields daprd's browser reads.
// avahi's service API cannot do either for daprd's one-label service type "<appId>" (it wants
// "_x._tcp"), so the records go through avahi's raw-record D-Bus API (avahi_records.py); the
// last test pins that limitation down.
#include <gtest/gtest.h>

#include <unistd.h>

#include <thread>

#include "controlplane/resolvers/mdns/mdns_resolver.h"
#include "tests/e2e/mdns/netns_helpers.h"

namespace ringside::mdns_test {
namespace {

using namespace std::chrono_literals;
using Publish = RecordingSink::Publish;

std::string Script() { return std::string(RINGSIDE_MDNS_TEST_DIR) + "/avahi_records.py"; }

resolvers::SelfRegistration Self(const std::string& app_id, const std::string& ip, int port) {
  resolvers::SelfRegistration self;
  self.app_id = app_id;
  self.address = ip + ":" + std::to_string(port);
  self.internal_port = port;
  self.host_name = "ringsidenode";
  return self;
}

class MdnsAvahi : public ::testing::Test {
 protected:
  void SetUp() override {
    auto lab = NetnsLab::Create(2);
    ASSERT_TRUE(lab.ok()) << lab.status();
    lab_ = *std::move(lab);
    // Host 2 runs avahi; its own host name keeps it clear of ours.
    auto avahi = PrivateAvahi::Start(lab_->host(2), "avahinode", dir_);
    ASSERT_TRUE(avahi.ok()) << avahi.status();
    avahi_ = *std::move(avahi);
  }

  std::unique_ptr<mdns::MdnsResolver> StartResolver(const resolvers::SelfRegistration& self) {
    InNetns in(lab_->host(1));
    EXPECT_TRUE(in.ok()) << in.error();
    auto r = std::make_unique<mdns::MdnsResolver>(mdns::MdnsOptions{});
    absl::Status s = r->start(self, &sink_);
    EXPECT_TRUE(s.ok()) << s;
    return s.ok() ? std::move(r) : nullptr;
  }

  // avahi publishes daprd's records for app `service` until the returned process is killed.
  std::unique_ptr<e2e::ChildProcess> AvahiPublishes(const std::string& service, const std::string& txt, int port) {
    auto p = SpawnIn(lab_->host(2),
                     {"/usr/bin/python3", Script(), "publish", "--service", service, "--instance", "avahinode:77",
                      "--host", "daprhost", "--port", std::to_string(port), "--address", NetnsLab::address(2),
                      "--txt", txt},
                     {avahi_->bus_env()}, dir_.File("publish-" + service + ".log"));
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) return nullptr;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while ((*p)->Log().find("published") == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline || !(*p)->Alive()) {
        ADD_FAILURE() << "avahi did not publish " << service << ": " << (*p)->LogTail() << "\navahi: " << avahi_->log_tail();
        return nullptr;
      }
      std::this_thread::sleep_for(20ms);
    }
    return *std::move(p);
  }

  e2e::TempDir dir_;
  std::unique_ptr<NetnsLab> lab_;
  std::unique_ptr<PrivateAvahi> avahi_;
  RecordingSink sink_;
};

TEST_F(MdnsAvahi, QuerierFindsDaprdStyleRecordsPublishedByAvahi) {
  auto gamma = AvahiPublishes("gamma", "gamma", 6000);
  // Same records, but a TXT that is not the app id: daprd skips such entries, so do we.
  auto delta = AvahiPublishes("delta", "not-delta", 6001);
  ASSERT_TRUE(gamma && delta);
  auto r = StartResolver(Self("caller", NetnsLab::address(1), 50002));
  ASSERT_TRUE(r);
  r->lookup("gamma", "");
  std::optional<Publish> found = sink_.WaitFor("gamma", [](const Publish& p) { return !p.addresses.empty(); }, kWait);
  ASSERT_TRUE(found.has_value()) << sink_.Describe() << "avahi: " << avahi_->log_tail();
  EXPECT_EQ(found->addresses, std::vector<std::string>{"198.51.100.2:6000"});

  r->lookup("delta", "");
  std::optional<Publish> delta_answer = sink_.WaitFor("delta", [](const Publish&) { return true; }, kWait);
  ASSERT_TRUE(delta_answer.has_value()) << sink_.Describe();
  EXPECT_TRUE(delta_answer->addresses.empty()) << "TXT \"not-delta\" must not match app id delta";
}

TEST_F(MdnsAvahi, AvahiSeesRingsidesAnnouncementWithDaprdFields) {
  auto r = StartResolver(Self("alpha", NetnsLab::address(1), 50002));
  ASSERT_TRUE(r);
  ToolResult browse = RunTool(lab_->host(2), {"/usr/bin/python3", Script(), "browse", "--service", "alpha", "--timeout", "8"},
                              {avahi_->bus_env()}, dir_, 15s);
  ASSERT_EQ(browse.exit_code, 0) << browse.output << "\navahi: " << avahi_->log_tail();
  // What daprd's browser (zeroconf) reads: instance under alpha.local., SRV port and target,
  // TXT = [app id], an A record for the target.
  const std::string instance = "ringsidenode:" + std::to_string(getpid()) + ".alpha.local.";
  EXPECT_NE(browse.output.find("\"instance\": \"" + instance + "\""), std::string::npos) << browse.output;
  EXPECT_NE(browse.output.find("\"port\": 50002"), std::string::npos) << browse.output;
  EXPECT_NE(browse.output.find("\"target\": \"ringsidenode.local.\""), std::string::npos) << browse.output;
  EXPECT_NE(browse.output.find("\"txt\": [\"alpha\"]"), std::string::npos) << browse.output;
  EXPECT_NE(browse.output.find("\"addresses\": [\"198.51.100.1\"]"), std::string::npos) << browse.output;
}

TEST_F(MdnsAvahi, AvahiServiceToolsRefuseDaprdsServiceType) {
  // The documented limitation: avahi accepts only "_x._tcp"-style service types, while daprd
  // announces the bare app id. If avahi ever relaxes this, these tools become usable for the
  // interop tests above and this test tells us.
  ToolResult publish = RunTool(lab_->host(2), {"avahi-publish", "-s", "avahinode:1", "alpha", "50002", "alpha"},
                               {avahi_->bus_env()}, dir_, 5s);
  EXPECT_NE(publish.output.find("Invalid service type"), std::string::npos) << publish.output;
  ToolResult browse = RunTool(lab_->host(2), {"avahi-browse", "-p", "-t", "alpha"}, {avahi_->bus_env()}, dir_, 5s);
  EXPECT_NE(browse.output.find("Invalid service type"), std::string::npos) << browse.output;
}

}  // namespace
}  // namespace ringside::mdns_test
