// ringside-sync end to end: real synchronizer processes on 127.0.0.1, each reading its own
// cluster's registry (a static file, a SQLite database, a real etcd), peered with each other,
// and a real gRPC Subscribe client in the role of a sidecar.
//
//   cluster a (static file) ──Export──► sync b ◄──Export── cluster c (etcd)
//          ▲  ◄─────────────────Export─────────────────────────┘  ...full mesh
//          └── Subscriber (sidecar of a): FULL, then DELTAs with b's and c's instances
#include <signal.h>

#include <algorithm>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "controlplane/resolvers/etcd/etcd_options.h"
#include "controlplane/resolvers/etcd/etcd_resolver.h"
#include "controlplane/resolvers/external/sync_subscriber.h"
#include "controlplane/resolvers/sqlite_resolver.h"
#include "gtest/gtest.h"
#include "tests/e2e/sync/sync_process.h"
#include "tests/unit/controlplane/etcd/etcd_server.h"

namespace ringside::e2e::sync {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

// Pushing resolvers need a sink; the test registers with them and reads nothing back.
class IgnoringSink final : public resolvers::InstanceSink {
 public:
  void publish_all(std::vector<snapshot::Instance>) override {}
  void publish_app(std::string, std::string, std::vector<snapshot::Instance>) override {}
  void report_status(const absl::Status&) override {}
};

long long ms_between(std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point to) {
  return duration_cast<milliseconds>(to - from).count();
}

class SyncE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(BinaryExists("ringside-sync")) << "build the ringside-sync target first";
    for (auto* p : {&a_, &b_, &c_}) {
      p->grpc_port = PickFreePort();
      p->metrics_port = PickFreePort();
    }
    a_.cluster = "a";
    b_.cluster = "b";
    c_.cluster = "c";
    a_.subscriber_token = "sub-a";
    b_.subscriber_token = "sub-b";
    // Cluster a: a static file, re-read when it changes.
    static_file_ = dir_.File("a-apps.yaml");
    WriteStaticApps({"127.0.0.1:5001"});
    a_.name_resolution_yaml = absl::StrCat("  component: static\n  configuration:\n    file: ", static_file_, "\n");
    // Cluster b: SQLite, rows live for a minute so the test need not renew them.
    sqlite_path_ = dir_.File("b-registry.db");
    b_.name_resolution_yaml = absl::StrCat("  component: sqlite\n  configuration:\n    connectionString: \"",
                                           sqlite_path_, "\"\n    updateInterval: 60s\n");
  }

  void WriteStaticApps(const std::vector<std::string>& addresses) {
    const std::string tmp = static_file_ + ".tmp";
    {
      std::ofstream out(tmp);
      out << "apps:\n";
      for (const std::string& a : addresses) out << "  - {appId: echo, address: \"" << a << "\"}\n";
    }
    std::rename(tmp.c_str(), static_file_.c_str());  // whole file at once: the reader never sees half
  }

  // Registers `app` at `address` in cluster b's SQLite registry the way a sidecar does.
  std::unique_ptr<resolvers::SqliteResolver> RegisterInB(const std::string& app, const std::string& address) {
    config::SqliteOptions o;
    o.path = sqlite_path_;
    o.update_interval = std::chrono::seconds(60);
    auto r = std::make_unique<resolvers::SqliteResolver>(o);
    resolvers::SelfRegistration self;
    self.app_id = app;
    self.app_namespace = "default";
    self.address = address;
    absl::Status s = r->start(self, nullptr);
    EXPECT_TRUE(s.ok()) << s;
    return r;
  }

  void PeerAll(std::vector<SyncSpec*> specs) {
    for (SyncSpec* s : specs) {
      for (SyncSpec* o : specs) {
        if (s == o) continue;
        std::string pair = s->cluster < o->cluster ? s->cluster + o->cluster : o->cluster + s->cluster;
        s->peers.push_back({o->cluster, o->grpc_port, "token-" + pair});
      }
    }
  }

  std::unique_ptr<ChildProcess> Start(const SyncSpec& spec) {
    auto p = StartSync(spec, dir_);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *std::move(p) : nullptr;
  }

  std::string Logs(const std::vector<ChildProcess*>& procs) {
    std::string out;
    for (ChildProcess* p : procs) {
      if (p) absl::StrAppend(&out, "--- ", p->log_path(), ":\n", p->LogTail(3000), "\n");
    }
    return out;
  }

  TempDir dir_;                 // configs, registries, logs
  SyncSpec a_, b_, c_;          // the three clusters' synchronizers
  std::string static_file_;     // cluster a's registry
  std::string sqlite_path_;     // cluster b's registry
};

TEST_F(SyncE2eTest, ThreeClustersSubscribersGetAFullThenDeltasAndRegistrationsCrossOver) {
  ringside::testing::EtcdServer etcd;
  absl::Status etcd_up = etcd.Start();
  ASSERT_TRUE(etcd_up.ok()) << "cannot run etcd (install etcd-server: scripts/install-deps.sh): " << etcd_up;
  c_.name_resolution_yaml =
      absl::StrCat("  component: etcd\n  configuration:\n    endpoints: [\"", etcd.endpoint(), "\"]\n");
  PeerAll({&a_, &b_, &c_});
  auto b_member = RegisterInB("echo", "127.0.0.2:6001");

  auto sa = Start(a_), sb = Start(b_), sc = Start(c_);
  ASSERT_TRUE(sa && sb && sc);
  Subscriber in_a(a_.grpc_port, "a", "sub-a");
  Subscriber in_b(b_.grpc_port, "b", "sub-b");
  ASSERT_TRUE(in_a.WaitFor(Has("b", "echo", "127.0.0.2:6001"), 10s)) << Logs({sa.get(), sb.get(), sc.get()});
  ASSERT_TRUE(in_b.WaitFor(Has("a", "echo", "127.0.0.1:5001"), 10s)) << Logs({sa.get(), sb.get(), sc.get()});
  ASSERT_FALSE(in_a.updates().empty());
  EXPECT_EQ(in_a.updates().front().update.kind(), v1::TableUpdate::FULL);
  // A subscriber never receives its own cluster's instances.
  for (const auto& [k, i] : in_a.table()) EXPECT_NE(i.cluster(), "a") << i.ShortDebugString();

  // SQLite registration in b -> a's subscriber, as a DELTA.
  // Several registrations: the figure depends on where in the refresh period each one lands.
  std::vector<long long> latencies;
  std::vector<std::unique_ptr<resolvers::SqliteResolver>> more;
  for (int n = 0; n < 5; ++n) {
    const size_t before = in_a.updates().size();
    const std::string address = absl::StrCat("127.0.0.2:", 6100 + n);
    const auto registered = std::chrono::steady_clock::now();
    more.push_back(RegisterInB("echo", address));
    auto visible = in_a.WaitFor(Has("b", "echo", address), 10s);
    ASSERT_TRUE(visible) << Logs({sa.get(), sb.get()});
    latencies.push_back(ms_between(registered, *visible));
    ASSERT_GT(in_a.updates().size(), before);
    EXPECT_EQ(in_a.updates().back().update.kind(), v1::TableUpdate::DELTA);
  }
  std::sort(latencies.begin(), latencies.end());
  std::printf("registration in cluster b (sqlite, refresh 100ms) -> visible to a subscriber in cluster a: "
              "median %lld ms, min %lld ms, max %lld ms (5 registrations)\n",
              latencies[2], latencies[0], latencies[4]);
  more.clear();  // deregisters them
  auto t0 = std::chrono::steady_clock::now();
  auto b_new = RegisterInB("echo", "127.0.0.2:6002");
  auto seen = in_a.WaitFor(Has("b", "echo", "127.0.0.2:6002"), 10s);
  ASSERT_TRUE(seen) << Logs({sa.get(), sb.get()});

  // etcd registration in c (pushed by the watch) -> a's subscriber.
  IgnoringSink sink;
  auto etcd_options = resolvers::etcd::parse_etcd_options(absl::StrCat("endpoints: [\"", etcd.endpoint(), "\"]\n"));
  ASSERT_TRUE(etcd_options.ok()) << etcd_options.status();
  resolvers::etcd::EtcdResolver c_member(*etcd_options);
  resolvers::SelfRegistration self;
  self.app_id = "echo";
  self.app_namespace = "default";
  self.address = "127.0.0.3:7001";
  self.cluster = "c";
  t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(c_member.start(self, &sink).ok());
  seen = in_a.WaitFor(Has("c", "echo", "127.0.0.3:7001"), 10s);
  ASSERT_TRUE(seen) << Logs({sa.get(), sc.get()});
  std::printf("registration in cluster c (etcd watch) -> visible to a subscriber in cluster a: %lld ms\n",
              ms_between(t0, *seen));

  // A static-file change in a -> b's subscriber; a removal in b -> a's subscriber.
  t0 = std::chrono::steady_clock::now();
  WriteStaticApps({"127.0.0.1:5001", "127.0.0.1:5002"});
  seen = in_b.WaitFor(Has("a", "echo", "127.0.0.1:5002"), 10s);
  ASSERT_TRUE(seen) << Logs({sa.get(), sb.get()});
  std::printf("static file change in cluster a -> visible to a subscriber in cluster b: %lld ms\n",
              ms_between(t0, *seen));
  b_new->stop();
  ASSERT_TRUE(in_a.WaitFor(Lacks("b", "echo", "127.0.0.2:6002"), 10s)) << Logs({sa.get(), sb.get()});
  c_member.stop();  // deregisters (lease revoked)
  ASSERT_TRUE(in_a.WaitFor(Lacks("c", "echo", "127.0.0.3:7001"), 10s)) << Logs({sa.get(), sc.get()});

  EXPECT_EQ(in_a.protocol_error(), "");
  EXPECT_EQ(in_b.protocol_error(), "");
  // The synchronizers registered nothing themselves: b's SQLite holds only the test's member.
  EXPECT_EQ(CountRegistryRows(sqlite_path_, "echo"), 1);
  EXPECT_EQ(etcd.Etcdctl("get --prefix /ringside/instances --keys-only").find("/ringside"), std::string::npos)
      << etcd.Etcdctl("get --prefix /ringside/instances --keys-only");
}

TEST_F(SyncE2eTest, AKilledPeersInstancesVanishOnlyAfterTheExportTtl) {
  PeerAll({&a_, &b_});
  auto b_member = RegisterInB("echo", "127.0.0.2:6001");
  auto sa = Start(a_), sb = Start(b_);
  ASSERT_TRUE(sa && sb);
  Subscriber in_a(a_.grpc_port, "a", "sub-a");
  ASSERT_TRUE(in_a.WaitFor(Has("b", "echo", "127.0.0.2:6001"), 10s)) << Logs({sa.get(), sb.get()});
  const auto killed = std::chrono::steady_clock::now();
  sb->Signal(SIGKILL);
  auto gone = in_a.WaitFor(Lacks("b", "echo", "127.0.0.2:6001"), 10s);
  ASSERT_TRUE(gone) << Logs({sa.get()});
  const long long ms = ms_between(killed, *gone);
  std::printf("peer sync killed -> its instances gone from subscribers after %lld ms (exportTtl 1500 ms, heartbeat 200 ms)\n",
              ms);
  // Not a speed assertion: the instances must not go before the TTL counted from the last
  // thing heard (at worst one heartbeat before the kill).
  EXPECT_GE(ms, 1500 - 200);
  EXPECT_EQ(in_a.protocol_error(), "");
}

TEST_F(SyncE2eTest, ARestartedSyncEndsItsStreamsCleanlyAndServesANewEpochFull) {
  a_.export_ttl = "5s";  // also the restarted sync's warm-up bound: b re-exports well within it
  PeerAll({&a_, &b_});
  auto b_member = RegisterInB("echo", "127.0.0.2:6001");
  auto sa = Start(a_), sb = Start(b_);
  ASSERT_TRUE(sa && sb);
  auto first = std::make_unique<Subscriber>(a_.grpc_port, "a", "sub-a");
  ASSERT_TRUE(first->WaitFor(Has("b", "echo", "127.0.0.2:6001"), 10s)) << Logs({sa.get(), sb.get()});
  const std::string old_epoch = first->updates().front().update.epoch();

  sa->Signal(SIGTERM);
  std::optional<int> code = sa->WaitExit(10s);
  ASSERT_TRUE(code) << "ringside-sync did not exit on SIGTERM\n" << sa->LogTail();
  EXPECT_EQ(*code, 0) << sa->LogTail();
  std::optional<grpc::Status> end = first->WaitEnd(5s);
  ASSERT_TRUE(end);
  EXPECT_FALSE(end->ok());

  const auto restarted = std::chrono::steady_clock::now();
  sa = Start(a_);
  ASSERT_TRUE(sa);
  Subscriber second(a_.grpc_port, "a", "sub-a");
  auto back = second.WaitFor(Has("b", "echo", "127.0.0.2:6001"), 10s);
  ASSERT_TRUE(back) << Logs({sa.get(), sb.get()});
  std::printf("sync a restarted -> a subscriber holds cluster b's instances again after %lld ms\n",
              ms_between(restarted, *back));
  ASSERT_FALSE(second.updates().empty());
  EXPECT_EQ(second.updates().front().update.kind(), v1::TableUpdate::FULL);
  EXPECT_NE(second.updates().front().update.epoch(), old_epoch);
  // The first FULL after the restart already holds b: the restarted sync waited for b's
  // export instead of serving an empty table that would empty every sidecar's view.
  EXPECT_EQ(second.updates().front().update.upserts_size(), 1) << second.updates().front().update.ShortDebugString();
  EXPECT_EQ(second.protocol_error(), "");
}

TEST_F(SyncE2eTest, WrongTokensAndForeignClustersAreRefused) {
  PeerAll({&a_, &b_});
  auto sa = Start(a_);
  ASSERT_TRUE(sa);
  {
    Subscriber no_token(a_.grpc_port, "a", "");
    auto end = no_token.WaitEnd(5s);
    ASSERT_TRUE(end);
    EXPECT_EQ(end->error_code(), grpc::StatusCode::UNAUTHENTICATED) << end->error_message();
  }
  {
    Subscriber wrong(a_.grpc_port, "a", "sub-b");
    auto end = wrong.WaitEnd(5s);
    ASSERT_TRUE(end);
    EXPECT_EQ(end->error_code(), grpc::StatusCode::UNAUTHENTICATED) << end->error_message();
  }
  {
    Subscriber other_cluster(a_.grpc_port, "b", "sub-a");
    auto end = other_cluster.WaitEnd(5s);
    ASSERT_TRUE(end);
    EXPECT_EQ(end->error_code(), grpc::StatusCode::PERMISSION_DENIED) << end->error_message();
    EXPECT_NE(end->error_message().find("serves cluster \"a\""), std::string::npos) << end->error_message();
  }
  auto export_as = [&](const std::string& cluster, const std::string& token) {
    auto stub = v1::Synchronizer::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", a_.grpc_port), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    ctx.AddMetadata("authorization", "Bearer " + token);
    auto stream = stub->Export(&ctx);
    v1::ExportRequest req;
    req.set_cluster(cluster);
    req.set_version(1);
    v1::Instance* i = req.add_instances();
    i->set_app_id("echo");
    i->set_address("127.0.0.9:1");
    stream->Write(req);
    v1::ExportAck ack;
    const bool acked = stream->Read(&ack);
    stream->WritesDone();
    while (stream->Read(&ack)) {
    }
    grpc::Status s = stream->Finish();
    return std::make_pair(acked, s);
  };
  auto [acked1, wrong_token] = export_as("b", "token-xx");
  EXPECT_FALSE(acked1);
  EXPECT_EQ(wrong_token.error_code(), grpc::StatusCode::UNAUTHENTICATED) << wrong_token.error_message();
  auto [acked2, stranger] = export_as("z", "token-ab");
  EXPECT_FALSE(acked2);
  EXPECT_EQ(stranger.error_code(), grpc::StatusCode::PERMISSION_DENIED) << stranger.error_message();
  auto [acked3, good] = export_as("b", "token-ab");
  EXPECT_TRUE(acked3);
  EXPECT_TRUE(good.ok()) << good.error_message();
  EXPECT_NE(sa->Log().find("refused Export"), std::string::npos);
}

TEST_F(SyncE2eTest, HealthzAndMetricsShowPeersInstancesVersionAndSubscribers) {
  PeerAll({&a_, &b_});
  auto b_member = RegisterInB("echo", "127.0.0.2:6001");
  auto b_member2 = RegisterInB("echo", "127.0.0.2:6002");
  auto sa = Start(a_), sb = Start(b_);
  ASSERT_TRUE(sa && sb);
  Subscriber in_a(a_.grpc_port, "a", "sub-a");
  ASSERT_TRUE(in_a.WaitFor(Has("b", "echo", "127.0.0.2:6002"), 10s)) << Logs({sa.get(), sb.get()});
  // a started before b: its own Export to b connects after a back-off step or two.
  bool exporting = false;
  for (int i = 0; i < 200 && !exporting; ++i) {
    exporting = ReadMetric(a_.metrics_port, "ringside_sync_exports_connected") == 1.0;
    if (!exporting) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(exporting) << Logs({sa.get(), sb.get()});
  auto health = HttpGet(a_.metrics_port, "/healthz");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(health->status(), 200);
  EXPECT_EQ(health->body, "ok\n");
  EXPECT_EQ(ReadMetric(a_.metrics_port, "ringside_sync_peers_connected"), 1.0);
  EXPECT_EQ(ReadMetric(a_.metrics_port, "ringside_sync_exports_connected"), 1.0);
  EXPECT_EQ(ReadMetric(a_.metrics_port, "ringside_sync_subscribers"), 1.0);
  EXPECT_EQ(ReadMetric(a_.metrics_port, "ringside_sync_table_instances"), 2.0);
  EXPECT_GE(ReadMetric(a_.metrics_port, "ringside_sync_table_version").value_or(0), 2.0);
  auto metrics = HttpGet(a_.metrics_port, "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("ringside_sync_instances{cluster=\"a\"} 1\n"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("ringside_sync_instances{cluster=\"b\"} 2\n"), std::string::npos) << metrics->body;
  EXPECT_GE(ReadMetric(a_.metrics_port, "ringside_sync_exports_sent_total").value_or(0), 1.0);
  EXPECT_GE(ReadMetric(a_.metrics_port, "ringside_sync_exports_received_total").value_or(0), 1.0);
  EXPECT_EQ(ReadMetric(b_.metrics_port, "ringside_sync_registry_up"), 1.0);
  in_a.Stop();
  bool left = false;
  for (int i = 0; i < 100 && !left; ++i) {
    left = ReadMetric(a_.metrics_port, "ringside_sync_subscribers") == 0.0;
    if (!left) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(left) << "the subscriber count did not drop after the subscriber left";
}

TEST_F(SyncE2eTest, PeerAddressesAreTriedInTurnAndSubscribersAreBounded) {
  PeerAll({&a_, &b_});
  b_.peers[0].dead_port_first = PickFreePort();  // b reaches a only through its second address
  a_.extra_yaml = "maxSubscribers: 1\n";
  auto b_member = RegisterInB("echo", "127.0.0.2:6001");
  auto sa = Start(a_), sb = Start(b_);
  ASSERT_TRUE(sa && sb);
  Subscriber first(a_.grpc_port, "a", "sub-a");
  ASSERT_TRUE(first.WaitFor(Has("b", "echo", "127.0.0.2:6001"), 10s)) << Logs({sa.get(), sb.get()});
  Subscriber second(a_.grpc_port, "a", "sub-a");
  auto end = second.WaitEnd(5s);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << end->error_message();
  EXPECT_EQ(ReadMetric(a_.metrics_port, "ringside_sync_subscribers_refused_total"), 1.0);
  first.Stop();
  // The place is free again once the first subscriber left.
  bool admitted = false;
  for (int i = 0; i < 50 && !admitted; ++i) {
    Subscriber third(a_.grpc_port, "a", "sub-a");
    admitted = third.WaitFor(Has("b", "echo", "127.0.0.2:6001"), 2s).has_value();
    if (!admitted) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(admitted);
}

// The sidecar's own external resolver (what ringsided runs) against real synchronizers: the
// protocol as both sides implement it, across a synchronizer restart.
TEST_F(SyncE2eTest, TheSidecarsSyncSubscriberFollowsARealSynchronizerAcrossItsRestart) {
  a_.export_ttl = "5s";  // the restarted sync's warm-up bound
  PeerAll({&a_, &b_});
  auto b_member = RegisterInB("echo", "127.0.0.2:6001");
  auto sa = Start(a_), sb = Start(b_);
  ASSERT_TRUE(sa && sb);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<snapshot::Instance> delivered;
  size_t fewest_after_two = SIZE_MAX;  // smallest list delivered once both of b's were known
  resolvers::external::SubscriberOptions options;
  options.synchronizers = {absl::StrCat("127.0.0.1:", a_.grpc_port)};
  options.token = "sub-a";
  options.cluster = "a";
  options.app_id = "caller";
  options.max_backoff = std::chrono::milliseconds(500);
  resolvers::external::SyncSubscriber subscriber(
      options,
      [&](std::vector<snapshot::Instance> list) {
        std::lock_guard<std::mutex> lock(mu);
        delivered = std::move(list);
        if (fewest_after_two != SIZE_MAX || delivered.size() == 2)
          fewest_after_two = std::min(fewest_after_two, delivered.size());
        cv.notify_all();
      },
      [](const std::string& line) { std::printf("subscriber: %s\n", line.c_str()); });
  ASSERT_TRUE(subscriber.start().ok());
  auto wait_for = [&](const std::function<bool(const std::vector<snapshot::Instance>&)>& done) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, 10s, [&] { return done(delivered); });
  };
  auto has_b = [](const std::vector<snapshot::Instance>& list) {
    for (const auto& i : list) {
      if (i.cluster == "b" && i.app_id == "echo" && i.address_text == "127.0.0.2:6001") return true;
    }
    return false;
  };
  ASSERT_TRUE(wait_for(has_b)) << Logs({sa.get(), sb.get()});
  EXPECT_TRUE(subscriber.connected());

  // A new registration in b arrives as a DELTA the subscriber applies.
  auto b_new = RegisterInB("echo", "127.0.0.2:6002");
  ASSERT_TRUE(wait_for([](const std::vector<snapshot::Instance>& list) { return list.size() == 2; }))
      << Logs({sa.get(), sb.get()});

  // Restart a's synchronizer on the same port: the sidecar keeps its table meanwhile and
  // resubscribes to the new epoch.
  const uint64_t subscriptions_before = subscriber.subscriptions();
  sa->Signal(SIGTERM);
  ASSERT_EQ(sa->WaitExit(10s), std::optional<int>(0)) << sa->LogTail();
  sa = Start(a_);
  ASSERT_TRUE(sa);
  bool resubscribed = false;
  for (int i = 0; i < 200 && !resubscribed; ++i) {
    resubscribed = subscriber.subscriptions() > subscriptions_before && subscriber.connected();
    if (!resubscribed) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(resubscribed) << Logs({sa.get(), sb.get()});
  ASSERT_TRUE(wait_for([](const std::vector<snapshot::Instance>& list) { return list.size() == 2; }))
      << Logs({sa.get(), sb.get()});
  subscriber.stop();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(fewest_after_two, 2u) << "the sidecar's external table shrank across the synchronizer restart";
}

TEST_F(SyncE2eTest, BadFlagsAndConfigsExitTwoNamingTheProblem) {
  auto run = [&](const std::vector<std::string>& args, const std::string& name) {
    auto p = ChildProcess::Spawn(BinPath("ringside-sync"), args, {}, dir_.File(name + ".log"));
    EXPECT_TRUE(p.ok());
    std::optional<int> code = (*p)->WaitExit(10s);
    return std::make_pair(code.value_or(-1), (*p)->Log());
  };
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir_.File(name)) << text;
    return dir_.File(name);
  };
  struct Case {
    std::vector<std::string> args;  // command line
    std::string names;              // what stderr must name
  };
  const std::vector<Case> cases = {
      {{"--bogus"}, "unknown flag --bogus"},
      {{"--cluster", "a", "--metrics-port", "x"}, "flag --metrics-port"},
      {{"--cluster", "a", "--listen", "nowhere"}, "flag --listen"},
      {{"--metrics-port", "0"}, "flag --cluster: a cluster name is required"},
      {{"--config", write("typo.yaml", "cluster: a\nheartbeat: 1s\n")}, "heartbeat: unknown key"},
      {{"--config", write("consul.yaml", "cluster: a\nnameResolution: {component: consul}\n")},
       "nameResolution.component: \"consul\" cannot be read by ringside-sync"},
      {{"--config", write("self-peer.yaml", "cluster: a\npeers: [{cluster: a, addresses: [\"h:1\"], token: t}]\n")},
       "peers[0].cluster: \"a\" is our own cluster"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    auto [code, log] = run(cases[i].args, absl::StrCat("bad", i));
    EXPECT_EQ(code, 2) << cases[i].names << "\n" << log;
    EXPECT_NE(log.find(cases[i].names), std::string::npos) << log;
  }
  auto [code, help] = run({"--help"}, "help");
  EXPECT_EQ(code, 0);
  EXPECT_NE(help.find("--metrics-port"), std::string::npos) << help;
}

}  // namespace
}  // namespace ringside::e2e::sync
