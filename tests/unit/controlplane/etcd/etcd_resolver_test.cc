// The etcd resolver against a real etcd (Debian's etcd-server) on 127.0.0.1: registration,
// watch, lease expiry, lost leases, disconnections (through a TCP relay the test cuts),
// compaction, and an etcd crash and restart.
#include "controlplane/resolvers/etcd/etcd_resolver.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "absl/strings/match.h"
#include "controlplane/resolvers/etcd/instance_record.h"
#include "tests/unit/controlplane/etcd/etcd_server.h"
#include "tests/unit/controlplane/etcd/recording_sink.h"
#include "tests/unit/controlplane/etcd/tcp_proxy.h"

namespace ringside::resolvers::etcd {
namespace {

using namespace std::chrono_literals;
using ringside::testing::EtcdServer;
using ringside::testing::RecordingSink;
using ringside::testing::TcpProxy;
using ringside::testing::View;

constexpr char kPrefix[] = "/ringside-test/instances";

EtcdOptions options_for(const std::string& endpoint, std::chrono::seconds ttl = 10s) {
  EtcdOptions o;
  o.endpoints = {endpoint};
  o.prefix = kPrefix;
  o.lease_ttl = ttl;
  o.dial_timeout = 2s;
  o.max_backoff = 300ms;  // reconnect quickly in tests
  return o;
}

SelfRegistration self(std::string app, std::string address, std::string ns = "default") {
  SelfRegistration s;
  s.app_id = std::move(app);
  s.app_namespace = std::move(ns);
  s.address = std::move(address);
  s.host_name = "test-host";
  s.http_port = 3500;
  return s;
}

// A started resolver with its own sink; the sink is declared first so it outlives the
// resolver's threads (members are destroyed in reverse order).
struct Sidecar {
  std::unique_ptr<RecordingSink> sink;     // what it reported
  std::unique_ptr<EtcdResolver> resolver;  // the resolver under test
};

Sidecar start_sidecar(const EtcdOptions& options, const SelfRegistration& me) {
  Sidecar s{std::make_unique<RecordingSink>(), std::make_unique<EtcdResolver>(options)};
  absl::Status st = s.resolver->start(me, s.sink.get());
  EXPECT_TRUE(st.ok()) << st;
  return s;
}

class EtcdResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = etcd_.Start();
    ASSERT_TRUE(s.ok()) << "cannot run etcd (install etcd-server: scripts/install-deps.sh): " << s;
    // Channel arguments unlike the resolvers': gRPC shares subchannels between channels with
    // equal arguments, and the test's own calls must not reconnect the resolvers' channels.
    client_ = std::make_unique<EtcdClient>(std::vector<std::string>{etcd_.endpoint()}, 2500ms, 250ms);
  }

  // Keys under the test prefix, read directly from etcd.
  std::vector<std::string> stored_keys() {
    absl::StatusOr<etcdserverpb::RangeResponse> r = client_->range_prefix(key_prefix(kPrefix));
    EXPECT_TRUE(r.ok()) << r.status();
    std::vector<std::string> keys;
    if (r.ok())
      for (const auto& kv : r->kvs()) keys.push_back(kv.key());
    return keys;
  }
  bool wait_for_keys(size_t n, std::chrono::milliseconds timeout = 15s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (stored_keys().size() == n) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  EtcdServer etcd_;                      // the real server
  std::unique_ptr<EtcdClient> client_;   // the test's own view of etcd
};

TEST_F(EtcdResolverTest, RegistersUnderALeaseAndRevokesOnStop) {
  Sidecar a = start_sidecar(options_for(etcd_.endpoint()), self("orders", "127.0.0.1:50002"));
  const std::string key = std::string(kPrefix) + "/default/orders/127.0.0.1:50002";

  absl::StatusOr<etcdserverpb::RangeResponse> r = client_->range_prefix(key_prefix(kPrefix));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->kvs_size(), 1);
  EXPECT_EQ(r->kvs(0).key(), key);
  EXPECT_NE(r->kvs(0).lease(), 0) << "the key must be attached to a lease";
  EXPECT_EQ(r->kvs(0).lease(), a.resolver->lease_keeper()->lease_id());
  absl::StatusOr<int64_t> ttl = client_->time_to_live(r->kvs(0).lease());
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_GT(*ttl, 0);
  EXPECT_LE(*ttl, 10);
  absl::StatusOr<InstanceRecord> record = decode_record(r->kvs(0).value());
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->app_id, "orders");
  EXPECT_EQ(record->app_namespace, "default");
  EXPECT_EQ(record->address, "127.0.0.1:50002");
  EXPECT_EQ(record->weight, 1u);
  // What an operator sees with etcdctl.
  std::string shown = etcd_.Etcdctl(absl::StrCat("get --prefix ", kPrefix));
  EXPECT_TRUE(absl::StrContains(shown, "\"appId\":\"orders\"")) << shown;

  // The first view already has ourselves.
  EXPECT_TRUE(a.sink->wait_for_view({"orders/default/127.0.0.1:50002"}));

  a.resolver->stop();
  EXPECT_TRUE(stored_keys().empty()) << "stop() revokes the lease, deleting the key at once";
  a.resolver->stop();  // twice is fine
}

TEST_F(EtcdResolverTest, WatchDeliversAnotherRegistrantsAddAndDelete) {
  Sidecar a = start_sidecar(options_for(etcd_.endpoint()), self("orders", "127.0.0.1:50002"));
  ASSERT_TRUE(a.sink->wait_for_view({"orders/default/127.0.0.1:50002"}));

  Sidecar b = start_sidecar(options_for(etcd_.endpoint()), self("billing", "127.0.0.1:50003", "prod"));
  // B lists and sees both at once; A learns about B through its watch.
  EXPECT_TRUE(b.sink->wait_for_view({"billing/prod/127.0.0.1:50003", "orders/default/127.0.0.1:50002"}));
  EXPECT_TRUE(a.sink->wait_for_view({"billing/prod/127.0.0.1:50003", "orders/default/127.0.0.1:50002"}))
      << "A never saw B's registration";
  EXPECT_EQ(a.resolver->watcher()->lists(), 1) << "a live watch needs no second list";

  b.resolver->stop();
  EXPECT_TRUE(a.sink->wait_for_view({"orders/default/127.0.0.1:50002"})) << "A never saw B's deregistration";
  // No view A published ever lacked A itself.
  for (const View& v : a.sink->views()) EXPECT_NE(std::find(v.begin(), v.end(), "orders/default/127.0.0.1:50002"), v.end());
}

TEST_F(EtcdResolverTest, AbandonedRegistrationDisappearsWhenItsLeaseExpires) {
  Sidecar a = start_sidecar(options_for(etcd_.endpoint()), self("orders", "127.0.0.1:50002"));
  Sidecar b = start_sidecar(options_for(etcd_.endpoint(), 2s), self("orders", "127.0.0.1:50004"));
  ASSERT_TRUE(a.sink->wait_for_view({"orders/default/127.0.0.1:50002", "orders/default/127.0.0.1:50004"}));

  auto abandoned_at = std::chrono::steady_clock::now();
  b.resolver->abandon_for_testing();  // like a crash: no revoke, no more keep-alives
  EXPECT_EQ(stored_keys().size(), 2u) << "an abandoned registration stays until its lease expires";
  EXPECT_TRUE(a.sink->wait_for_view({"orders/default/127.0.0.1:50002"}, 20s)) << "B's lease never expired";
  auto took = std::chrono::steady_clock::now() - abandoned_at;
  std::printf("lease expiry (TTL 2 s) seen by the watcher after %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
  EXPECT_EQ(stored_keys().size(), 1u);
}

TEST_F(EtcdResolverTest, LostLeaseIsGrantedAgainAndTheKeyWrittenAgain) {
  EtcdOptions o = options_for(etcd_.endpoint(), 3s);
  Sidecar a = start_sidecar(o, self("orders", "127.0.0.1:50002"));
  int64_t first = a.resolver->lease_keeper()->lease_id();
  ASSERT_NE(first, 0);
  // An operator revokes our lease (as etcd would after an outage longer than the TTL).
  ASSERT_TRUE(client_->revoke(first).ok());
  auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline && a.resolver->lease_keeper()->registrations() < 2) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(a.resolver->lease_keeper()->registrations(), 2);
  ASSERT_TRUE(wait_for_keys(1));
  absl::StatusOr<etcdserverpb::RangeResponse> r = client_->range_prefix(key_prefix(kPrefix));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->kvs_size(), 1);
  EXPECT_NE(r->kvs(0).lease(), first);
  EXPECT_EQ(r->kvs(0).lease(), a.resolver->lease_keeper()->lease_id());
  // The watcher saw the key go and come back; the final view has us.
  EXPECT_TRUE(a.sink->wait_for_view({"orders/default/127.0.0.1:50002"}));
}

TEST_F(EtcdResolverTest, ChangesMadeWhileDisconnectedArriveWhenTheWatchResumes) {
  TcpProxy relay(etcd_.client_port());
  Sidecar a = start_sidecar(options_for(absl::StrCat("127.0.0.1:", relay.port())), self("orders", "127.0.0.1:50002"));
  Sidecar b = start_sidecar(options_for(etcd_.endpoint()), self("billing", "127.0.0.1:50003"));
  View before = {"billing/default/127.0.0.1:50003", "orders/default/127.0.0.1:50002"};
  ASSERT_TRUE(a.sink->wait_for_view(before));
  size_t views_before = a.sink->views().size();

  relay.cut();
  EXPECT_TRUE(a.sink->wait_for_error()) << "a lost connection is reported";
  // Changes A cannot see now: B leaves, C arrives.
  b.resolver->stop();
  Sidecar c = start_sidecar(options_for(etcd_.endpoint()), self("shipping", "127.0.0.1:50005"));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(a.sink->views().size(), views_before) << "nothing may be published because of an outage";
  EXPECT_EQ(a.sink->last_view(), before);

  relay.restore();
  EXPECT_TRUE(a.sink->wait_for_view({"orders/default/127.0.0.1:50002", "shipping/default/127.0.0.1:50005"}))
      << "changes made while disconnected never arrived";
  EXPECT_EQ(a.resolver->watcher()->lists(), 1) << "the watch resumed from its revision instead of listing again";
  EXPECT_TRUE(a.sink->wait_until([&] { return a.sink->statuses_locked().back().ok(); })) << "the error is cleared";
  // A's registration survived the cut (its keep-alive reconnected in time).
  EXPECT_EQ(stored_keys().size(), 2u);
}

TEST_F(EtcdResolverTest, CompactedRevisionIsListedAgain) {
  TcpProxy relay(etcd_.client_port());
  Sidecar a = start_sidecar(options_for(absl::StrCat("127.0.0.1:", relay.port())), self("orders", "127.0.0.1:50002"));
  ASSERT_TRUE(a.sink->wait_for_view({"orders/default/127.0.0.1:50002"}));
  relay.cut();
  ASSERT_TRUE(a.sink->wait_for_error());
  Sidecar c = start_sidecar(options_for(etcd_.endpoint()), self("shipping", "127.0.0.1:50005"));
  absl::StatusOr<etcdserverpb::PutResponse> filler = client_->put("/unrelated", "x", 0);
  ASSERT_TRUE(filler.ok());
  std::string out = etcd_.Etcdctl(absl::StrCat("compact ", filler->header().revision()));
  ASSERT_TRUE(absl::StrContains(out, "compacted revision")) << out;

  relay.restore();
  EXPECT_TRUE(a.sink->wait_for_view({"orders/default/127.0.0.1:50002", "shipping/default/127.0.0.1:50005"}));
  EXPECT_EQ(a.resolver->watcher()->lists(), 2) << "a compacted watch must list again";
}

TEST_F(EtcdResolverTest, EtcdCrashKeepsTheLastTableAndUpdatesResumeAfterRestart) {
  Sidecar a = start_sidecar(options_for(etcd_.endpoint()), self("orders", "127.0.0.1:50002"));
  Sidecar b = start_sidecar(options_for(etcd_.endpoint()), self("billing", "127.0.0.1:50003"));
  View both = {"billing/default/127.0.0.1:50003", "orders/default/127.0.0.1:50002"};
  ASSERT_TRUE(a.sink->wait_for_view(both));
  size_t views_before = a.sink->views().size();

  etcd_.Kill();
  EXPECT_TRUE(a.sink->wait_for_error()) << "the outage is reported";
  std::this_thread::sleep_for(1500ms);  // several reconnect attempts
  EXPECT_EQ(a.sink->views().size(), views_before) << "nothing may be published because of an outage";

  ASSERT_TRUE(etcd_.Start().ok());
  // A change after the restart reaches A's resumed watch; A and B kept their leases. It is
  // written with the test's own client (a resolver started here would share, and so
  // reconnect, A's gRPC subchannel: A must reconnect on its own).
  ASSERT_TRUE(client_->put(std::string(kPrefix) + "/default/shipping/127.0.0.1:50005",
                           R"({"appId":"shipping","address":"127.0.0.1:50005"})", 0).ok());
  EXPECT_TRUE(a.sink->wait_for_view(
      {"billing/default/127.0.0.1:50003", "orders/default/127.0.0.1:50002", "shipping/default/127.0.0.1:50005"}));
  EXPECT_TRUE(a.sink->wait_until([&] { return a.sink->statuses_locked().back().ok(); })) << "the error is cleared";
  b.resolver->stop();
  EXPECT_TRUE(a.sink->wait_for_view({"orders/default/127.0.0.1:50002", "shipping/default/127.0.0.1:50005"}));
  EXPECT_EQ(a.resolver->lease_keeper()->registrations(), 1) << "the lease survived the restart";
  for (const View& v : a.sink->views()) EXPECT_FALSE(v.empty()) << "an empty table was published";
}

TEST_F(EtcdResolverTest, LookupAnswersFromTheWatchedView) {
  Sidecar a = start_sidecar(options_for(etcd_.endpoint()), self("orders", "127.0.0.1:50002"));
  Sidecar b = start_sidecar(options_for(etcd_.endpoint()), self("billing", "127.0.0.1:50003", "prod"));
  ASSERT_TRUE(a.sink->wait_for_view({"billing/prod/127.0.0.1:50003", "orders/default/127.0.0.1:50002"}));
  a.resolver->lookup("billing", "prod");
  a.resolver->lookup("billing", "default");
  a.resolver->lookup("nobody", "default");
  std::vector<RecordingSink::AppAnswer> answers = a.sink->answers();
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_EQ(answers[0].instances, View{"billing/prod/127.0.0.1:50003"});
  EXPECT_TRUE(answers[1].instances.empty()) << "namespaces are honoured";
  EXPECT_TRUE(answers[2].instances.empty());
}

TEST_F(EtcdResolverTest, UnusableValuesAreIgnored) {
  Sidecar a = start_sidecar(options_for(etcd_.endpoint()), self("orders", "127.0.0.1:50002"));
  ASSERT_TRUE(client_->put(std::string(kPrefix) + "/default/junk/x", "not json", 0).ok());
  ASSERT_TRUE(client_->put(std::string(kPrefix) + "/default/noport/x", R"({"appId":"noport","address":"10.0.0.1"})", 0).ok());
  ASSERT_TRUE(client_->put(std::string(kPrefix) + "/default/manual/x",
                           R"({"appId":"manual","address":"192.0.2.7:50002","weight":3,"futureField":1})", 0)
                  .ok());
  EXPECT_TRUE(a.sink->wait_for_view({"manual/default/192.0.2.7:50002", "orders/default/127.0.0.1:50002"}));
}

TEST_F(EtcdResolverTest, KeyDeletedByAnOperatorIsWrittenAgain) {
  Sidecar a = start_sidecar(options_for(etcd_.endpoint(), 3s), self("orders", "127.0.0.1:50002"));
  ASSERT_TRUE(a.sink->wait_for_view({"orders/default/127.0.0.1:50002"}));
  int64_t lease = a.resolver->lease_keeper()->lease_id();
  std::string out = etcd_.Etcdctl(absl::StrCat("del ", kPrefix, "/default/orders/127.0.0.1:50002"));
  ASSERT_TRUE(absl::StrContains(out, "1")) << out;
  // Back within one keep-alive interval (1 s), under the same lease.
  EXPECT_TRUE(a.sink->wait_until([&] {
    const auto& v = a.sink->views_locked();
    return v.size() >= 2 && v[v.size() - 2].empty() && v.back() == View{"orders/default/127.0.0.1:50002"};
  })) << "the deletion and the rewrite were not both seen";
  ASSERT_TRUE(wait_for_keys(1));
  absl::StatusOr<etcdserverpb::RangeResponse> r = client_->range_prefix(key_prefix(kPrefix));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->kvs_size(), 1);
  EXPECT_EQ(r->kvs(0).lease(), lease);
  EXPECT_EQ(a.resolver->lease_keeper()->registrations(), 1);
}

TEST_F(EtcdResolverTest, DiscoverOnlyRegistersNothing) {
  Sidecar b = start_sidecar(options_for(etcd_.endpoint()), self("billing", "127.0.0.1:50003"));
  EtcdOptions o = options_for(etcd_.endpoint());
  o.self_register = false;
  Sidecar a = start_sidecar(o, self("orders", "127.0.0.1:50002"));
  EXPECT_EQ(a.resolver->lease_keeper(), nullptr);
  EXPECT_TRUE(a.sink->wait_for_view({"billing/default/127.0.0.1:50003"}));
  EXPECT_EQ(stored_keys().size(), 1u);
}

TEST_F(EtcdResolverTest, NextEndpointIsUsedWhenOneIsDown) {
  uint16_t dead = ringside::testing::pick_free_port();  // nothing listens there
  EtcdOptions o = options_for(absl::StrCat("127.0.0.1:", dead));
  o.endpoints.push_back(etcd_.endpoint());
  o.dial_timeout = 500ms;
  Sidecar a = start_sidecar(o, self("orders", "127.0.0.1:50002"));
  EXPECT_TRUE(a.sink->wait_for_view({"orders/default/127.0.0.1:50002"}));
  EXPECT_EQ(stored_keys().size(), 1u);
  Sidecar b = start_sidecar(options_for(etcd_.endpoint()), self("billing", "127.0.0.1:50003"));
  EXPECT_TRUE(a.sink->wait_for_view({"billing/default/127.0.0.1:50003", "orders/default/127.0.0.1:50002"}))
      << "the watch runs on the live endpoint";
}

TEST(EtcdResolverStartTest, StartFailsWhenEtcdIsUnreachable) {
  uint16_t port = ringside::testing::pick_free_port();  // nothing listens there
  EtcdOptions o = options_for(absl::StrCat("127.0.0.1:", port));
  o.dial_timeout = 500ms;
  EtcdResolver r(o);
  RecordingSink sink;
  absl::Status s = r.start(self("orders", "127.0.0.1:50002"), &sink);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(absl::StartsWith(s.message(), "spec.nameResolution.configuration.endpoints: cannot register"))
      << s.message();
  r.stop();
}

TEST(EtcdResolverStartTest, StopWithoutStartIsHarmless) {
  EtcdResolver r(options_for("127.0.0.1:1"));
  r.stop();
  EXPECT_FALSE(r.lists());
  EXPECT_TRUE(r.namespace_aware());
}

}  // namespace
}  // namespace ringside::resolvers::etcd
