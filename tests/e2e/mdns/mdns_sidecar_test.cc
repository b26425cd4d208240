// Two real ringsided processes in two network namespaces, each with an echo app, configured
// with nothing but `nameResolution: {component: mdns}` (and DAPR_HOST_IP, as daprd needs for
// peers on other hosts): each invokes the other's app. Reports the discovery time: from the
// start of the first call to its first success.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/e2e/mdns/netns_helpers.h"

namespace ringside::mdns_test {
namespace {

using namespace std::chrono_literals;

class MdnsSidecars : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(e2e::BinaryExists("ringsided")) << "build ringsided first";
    auto lab = NetnsLab::Create(2);
    ASSERT_TRUE(lab.ok()) << lab.status();
    lab_ = *std::move(lab);
    config_ = dir_.File("config.yaml");
    std::ofstream(config_) << "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: ringside}\n"
                              "spec:\n  nameResolution:\n    component: mdns\n";
  }

  // Starts an echo app and a sidecar for `app_id` in host `i`'s namespace.
  void StartHost(int i, const std::string& app_id) {
    InNetns in(lab_->host(i));
    ASSERT_TRUE(in.ok()) << in.error();
    uint16_t app_port = 0;
    auto app = e2e::StartEchoApp(dir_, &app_port);
    ASSERT_TRUE(app.ok()) << app.status();
    apps_.push_back(*std::move(app));
    // The harness passes our environment on; DAPR_HOST_IP is read at start-up only.
    setenv("DAPR_HOST_IP", NetnsLab::address(i).c_str(), 1);
    auto sidecar = e2e::StartSidecar({.app_id = app_id, .app_port = app_port, .extra_args = {"--config", config_}}, dir_);
    unsetenv("DAPR_HOST_IP");
    ASSERT_TRUE(sidecar.ok()) << sidecar.status();
    sidecars_.push_back(*std::move(sidecar));
  }

  // Calls `target` through sidecar `from` (in host `host`'s namespace) until the echo comes
  // back; returns the time from the first call's start, or nullopt after 15 s.
  std::optional<std::chrono::milliseconds> DiscoveryTime(int host, const e2e::Sidecar& from, const std::string& target,
                                                         int* attempts, std::string* last) {
    InNetns in(lab_->host(host));
    EXPECT_TRUE(in.ok()) << in.error();
    const auto start = std::chrono::steady_clock::now();
    for (*attempts = 1; *attempts <= 300; ++*attempts) {
      auto r = e2e::Invoke(from.ports.http, "POST", target, "echo", "ping", {}, 5s);
      if (r.ok() && r->status() == 200 && r->body == "ping")
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
      *last = r.ok() ? absl::StrCat(r->status(), " ", r->body) : std::string(r.status().message());
      if (std::chrono::steady_clock::now() - start > 15s) break;
      std::this_thread::sleep_for(50ms);
    }
    return std::nullopt;
  }

  e2e::TempDir dir_;
  std::unique_ptr<NetnsLab> lab_;
  std::string config_;
  std::vector<std::unique_ptr<e2e::ChildProcess>> apps_;
  std::vector<e2e::Sidecar> sidecars_;
};

TEST_F(MdnsSidecars, SidecarsInTwoNamespacesInvokeEachOther) {
  ASSERT_NO_FATAL_FAILURE(StartHost(1, "alpha"));
  ASSERT_NO_FATAL_FAILURE(StartHost(2, "beta"));
  int attempts = 0;
  std::string last;
  std::optional<std::chrono::milliseconds> t = DiscoveryTime(1, sidecars_[0], "beta", &attempts, &last);
  ASSERT_TRUE(t.has_value()) << "alpha never reached beta; last answer: " << last << "\nalpha:\n"
                             << sidecars_[0].process->LogTail() << "\nbeta:\n" << sidecars_[1].process->LogTail();
  std::printf("[ MEASURE  ] mdns discovery alpha -> beta: %lld ms (%d call%s)\n", static_cast<long long>(t->count()),
              attempts, attempts == 1 ? "" : "s");
  t = DiscoveryTime(2, sidecars_[1], "alpha", &attempts, &last);
  ASSERT_TRUE(t.has_value()) << "beta never reached alpha; last answer: " << last << "\nbeta:\n"
                             << sidecars_[1].process->LogTail();
  std::printf("[ MEASURE  ] mdns discovery beta -> alpha: %lld ms (%d call%s)\n", static_cast<long long>(t->count()),
              attempts, attempts == 1 ? "" : "s");
  // An app id nobody announces fails (no hang): daprd answers such calls with an error too.
  InNetns in(lab_->host(1));
  ASSERT_TRUE(in.ok());
  auto r = e2e::Invoke(sidecars_[0].ports.http, "POST", "nobody", "echo", "ping", {}, 10s);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NE(r->status(), 200) << r->body;
}

}  // namespace
}  // namespace ringside::mdns_test
