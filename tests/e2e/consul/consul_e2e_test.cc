// Two ringsided sidecars with spec.nameResolution.component: consul, registering themselves in
// the Consul HTTP API double (as daprd would in a real agent) and invoking each other through
// what the resolver finds there: registration with daprd's health check (which the double runs
// against the sidecars' /v1.0/healthz?appid=), lookups over blocking queries, deregistration
// on SIGTERM noticed by the other sidecar.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/harness.h"
#include "tests/support/consul_api_double/consul_api_double.h"

namespace ringside::e2e {
namespace {

using Json = nlohmann::json;

std::string write_config(const TempDir& dir, const std::string& consul_address) {
  const std::string path = dir.File("consul-config.yaml");
  std::ofstream(path) << "apiVersion: dapr.io/v1alpha1\n"
                         "kind: Configuration\n"
                         "metadata:\n  name: consul\n"
                         "spec:\n"
                         "  nameResolution:\n"
                         "    component: consul\n"
                         "    configuration:\n"
                         "      client:\n"
                         "        address: \""
                      << consul_address
                      << "\"\n"
                         "      selfRegister: true\n"
                         "      selfDeregister: true\n"
                         "      useCache: true\n";
  return path;
}

TEST(ConsulE2e, TwoSidecarsRegisterInConsulAndCallEachOther) {
  TempDir dir;
  ringside::testing::ConsulApiDouble consul;
  ASSERT_TRUE(consul.start().ok()) << "the Consul API double must start";
  const std::string config = write_config(dir, consul.address());

  uint16_t app_port = 0;
  auto app = StartEchoApp(dir, &app_port);
  ASSERT_TRUE(app.ok()) << app.status();
  // Both sidecars front the same echo app, so each can be the callee.
  auto a = StartSidecar({.app_id = "a", .app_port = app_port, .extra_args = {"--config", config}}, dir);
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = StartSidecar({.app_id = "b", .app_port = app_port, .extra_args = {"--config", config}}, dir);
  ASSERT_TRUE(b.ok()) << b.status();

  // Each registered itself as daprd does.
  Json services = Json::parse(consul.get("/v1/agent/services").body);
  const std::string a_id = absl::StrCat("a-127.0.0.1-", a->ports.http);
  const std::string b_id = absl::StrCat("b-127.0.0.1-", b->ports.http);
  ASSERT_TRUE(services.contains(a_id)) << services.dump();
  ASSERT_TRUE(services.contains(b_id)) << services.dump();
  EXPECT_EQ(services[b_id]["Service"], "b");
  EXPECT_EQ(services[b_id]["Port"], app_port);
  EXPECT_EQ(services[b_id]["Meta"]["DAPR_PORT"], absl::StrCat(b->ports.internal));

  // The double runs the registered HTTP checks against the sidecars; once they pass, each
  // sidecar finds the other through the health API and the call goes through.
  EXPECT_TRUE(WaitUntilInvocable(a->ports.http, "b", 20s))
      << "a could not invoke b; a log:\n" << a->process->LogTail() << "\nb log:\n" << b->process->LogTail()
      << "\nchecks: " << consul.get("/v1/agent/checks").body;
  EXPECT_TRUE(WaitUntilInvocable(b->ports.http, "a", 20s))
      << "b could not invoke a; b log:\n" << b->process->LogTail();
  Json checks = Json::parse(consul.get("/v1/agent/checks").body);
  EXPECT_EQ(checks[absl::StrCat("daprHealth:", b_id)]["Status"], "passing") << checks.dump();

  // b shuts down cleanly: selfDeregister removes it, and a's watch sees it go.
  b->process->Signal(SIGTERM);
  ASSERT_TRUE(b->process->WaitExit(15s).has_value()) << b->process->LogTail();
  Json deregistered = Json::parse(consul.get("/_double/deregistrations").body);
  EXPECT_EQ(deregistered, Json::array({b_id}));
  // Not just "the call fails" (b is dead anyway): a's table no longer has b.
  bool gone = false;
  std::string last;
  for (int i = 0; i < 100 && !gone; ++i) {
    auto r = Invoke(a->ports.http, "POST", "b", "echo", "ping", {}, 3s);
    if (r.ok()) last = absl::StrCat(r->status(), " ", r->body);
    gone = r.ok() && r->status() != 200 && r->body.find("no host found with the given ID") != std::string::npos;
    if (!gone) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(gone) << "a did not drop b after b deregistered; last answer: " << last << "\na log:\n"
                    << a->process->LogTail();
}

}  // namespace
}  // namespace ringside::e2e
