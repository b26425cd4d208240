// Peer connections that cannot leak or hang (docs/peer-connections.md), with real processes:
// - a burst of 1,000 concurrent calls to a peer that allows 4 streams per connection: every
//   call succeeds or fails fast with the pool's UNAVAILABLE text, the caller never holds more
//   connections than the cap, every socket of the caller process is one the pool reports (or a
//   listener), idle extra connections close, and SIGTERM still exits promptly;
// - a callee sidecar that stops answering (SIGSTOP): calls in flight fail UNAVAILABLE through
//   the keepalive PING instead of hanging, and calls succeed again after SIGCONT;
// - a caller deadline shorter than the app's delay: DEADLINE_EXCEEDED with daprd's text, and
//   the callee's app call is cancelled.
#include <algorithm>
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "dapr/proto/runtime/v1/dapr.grpc.pb.h"
#include "tests/e2e/grpc_helpers.h"
#include "tests/e2e/harness.h"

namespace ringside::e2e {
namespace {

namespace common = dapr::proto::common::v1;
namespace runtime = dapr::proto::runtime::v1;

// Sockets among the open file descriptors of process `pid` (-1 if /proc cannot be read).
int CountSockets(pid_t pid) {
  const std::string dir = absl::StrCat("/proc/", pid, "/fd");
  DIR* d = ::opendir(dir.c_str());
  if (!d) return -1;
  int n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    char target[256];
    ssize_t len = ::readlink(absl::StrCat(dir, "/", e->d_name).c_str(), target, sizeof target - 1);
    if (len > 0 && std::string_view(target, static_cast<size_t>(len)).starts_with("socket:")) ++n;
  }
  ::closedir(d);
  return n;
}

// The 1,000 client sockets of the burst (and the sidecars inheriting our limit) need more
// than a default soft limit of 1024 descriptors.
void RaiseFdLimit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < 8192) {
    r.rlim_cur = r.rlim_max < 8192 ? r.rlim_max : 8192;
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
}

double Metric(const Sidecar& s, std::string_view name) {
  return ReadMetric(s.ports.metrics, name).value_or(-1);
}

int Shards() { return std::stoi(E2eShards()); }

// Waits (bounded) until the sidecar's table has `app_id` registered in the SQLite registry and
// a few listing periods passed, without calling it (the caller's pool stays empty).
bool WaitRegistered(const std::string& nr_db, std::string_view app_id) {
  const Clock::time_point until = Clock::now() + 15s;
  while (CountRegistryRows(nr_db, app_id) < 1 && Clock::now() < until) std::this_thread::sleep_for(50ms);
  if (CountRegistryRows(nr_db, app_id) < 1) return false;
  std::this_thread::sleep_for(2s);  // the caller lists the registry every 500 ms
  return true;
}

// Waits (bounded) until every socket of the caller is a listener/control socket counted in
// `baseline_other` or a peer connection its pool reports; returns the last peer count seen, or
// -1 if the counts never agreed. `max_peers`: also wait until the pool holds at most that many.
int WaitSocketsOwned(const Sidecar& a, int baseline_other, int max_peers, std::chrono::seconds bound,
                     std::string* last) {
  const Clock::time_point until = Clock::now() + bound;
  while (Clock::now() < until) {
    const double before = Metric(a, "ringside_peer_connections");
    const int sockets = CountSockets(a.process->pid());
    const double after = Metric(a, "ringside_peer_connections");
    *last = absl::StrCat("sockets ", sockets, ", peer connections ", before, "/", after,
                         ", other sockets at start ", baseline_other);
    if (before == after && before >= 0 && sockets == baseline_other + static_cast<int>(before) &&
        before <= max_peers) {
      return static_cast<int>(before);
    }
    std::this_thread::sleep_for(100ms);
  }
  return -1;
}

class PeerConnectionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RaiseFdLimit();
    ASSERT_FALSE(dir_.path().empty());
    nr_db_ = dir_.File("nr.db");
  }
  void TearDown() override {
    if (!HasFailure()) return;
    for (const auto* s : {&a_, &b_}) {
      if (s->process) std::cerr << "--- sidecar " << s->app_id << ":\n" << s->process->LogTail() << "\n";
    }
  }
  void StartEchoAppAndB(std::vector<std::string> b_args) {
    auto app = StartEchoApp(dir_, &app_port_);
    ASSERT_TRUE(app.ok()) << app.status();
    app_ = std::move(*app);
    auto b = StartSidecar({.app_id = "b", .app_port = app_port_, .nr_db = nr_db_, .extra_args = std::move(b_args)}, dir_);
    ASSERT_TRUE(b.ok()) << b.status();
    b_ = std::move(*b);
  }
  void StartA(std::vector<std::string> args) {
    auto a = StartSidecar({.app_id = "a", .nr_db = nr_db_, .extra_args = std::move(args)}, dir_);
    ASSERT_TRUE(a.ok()) << a.status();
    a_ = std::move(*a);
  }

  TempDir dir_;
  std::string nr_db_;
  std::unique_ptr<ChildProcess> app_;
  uint16_t app_port_ = 0;
  Sidecar a_;
  Sidecar b_;
};

TEST_F(PeerConnectionsTest, BurstOf1000CallsStaysWithinTheCapAndEverySocketIsOwned) {
  constexpr int kCalls = 1000;
  constexpr int kMaxConnections = 4;  // per peer and shard
  // b's internal port allows 4 streams per connection: 16 calls run at once per shard of a,
  // 100 more may wait, the rest is refused at once.
  ASSERT_NO_FATAL_FAILURE(StartEchoAppAndB({"--internal-max-concurrent-streams", "4"}));
  ASSERT_NO_FATAL_FAILURE(StartA({"--peer-max-connections", absl::StrCat(kMaxConnections),
                                  "--peer-max-pending", "100", "--peer-idle-timeout", "1s"}));
  ASSERT_TRUE(WaitRegistered(nr_db_, "b"));
  // A fresh caller: nothing dialled yet.
  ASSERT_EQ(Metric(a_, "ringside_peer_connections"), 0);
  // The fewest sockets over a few samples: the metrics read just above may leave its accepted
  // connection open on a's metrics thread for a moment, and it must not count as a listener.
  int other_sockets = CountSockets(a_.process->pid());
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(50ms);
    other_sockets = std::min(other_sockets, CountSockets(a_.process->pid()));
  }
  ASSERT_GT(other_sockets, 0);

  const Clock::time_point connect_start = Clock::now();
  // Every client connects first, then all send at once.
  std::mutex go_mu;
  std::condition_variable go_cv;
  bool go = false;  // guarded by go_mu
  std::atomic<int> ready{0};
  std::mutex mu;
  int ok = 0, refused = 0;
  std::vector<std::string> unexpected;  // anything else (at most a few kept)
  std::vector<std::thread> clients;
  clients.reserve(kCalls);
  const std::string request = blocking_http::BuildRequest(
      {.method = "POST", .target = "/v1.0/invoke/b/method/sleep/200", .body = "x"});
  for (int i = 0; i < kCalls; ++i) {
    clients.emplace_back([&] {
      BlockingHttpConnection conn;
      absl::Status s = conn.Connect(a_.ports.http, Clock::now() + 30s);
      {
        // Blocked, not polling: a thousand pollers would load the machine more than the test.
        std::unique_lock<std::mutex> lock(go_mu);
        ready.fetch_add(1);
        go_cv.notify_all();
        go_cv.wait_for(lock, 120s, [&] { return go; });
      }
      if (s.ok()) s = conn.SendAll(request, Clock::now() + 30s);
      absl::StatusOr<HttpMessage> r = s.ok() ? conn.ReadResponse(Clock::now() + 60s)
                                             : absl::StatusOr<HttpMessage>(s);
      std::lock_guard<std::mutex> lock(mu);
      if (r.ok() && r->status() == 200 && r->body == "slept 200") {
        ++ok;
      } else if (r.ok() && r->status() == 500 &&
                 JsonStringField(r->body, "errorCode") == "ERR_DIRECT_INVOKE" &&
                 absl::StrContains(r->body, "code = Unavailable") &&
                 absl::StrContains(r->body, "queue of waiting calls is full")) {
        ++refused;
      } else if (unexpected.size() < 5) {
        unexpected.push_back(r.ok() ? absl::StrCat(r->status(), " ", r->body) : r.status().ToString());
      } else {
        unexpected.push_back("...");
      }
    });
  }
  {
    std::unique_lock<std::mutex> lock(go_mu);
    go_cv.wait_for(lock, 60s, [&] { return ready.load() == kCalls; });
  }
  EXPECT_EQ(ready.load(), kCalls) << "clients still connecting after 60 s";
  std::cout << "connect phase: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - connect_start).count() << " ms\n";
  const Clock::time_point burst_start = Clock::now();
  {
    std::lock_guard<std::mutex> lock(go_mu);
    go = true;
  }
  go_cv.notify_all();
  for (auto& t : clients) t.join();
  std::cout << "burst: " << ok << " answered, " << refused << " refused in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - burst_start).count()
            << " ms; dials " << Metric(a_, "ringside_peer_dials_total") << ", queued "
            << Metric(a_, "ringside_peer_calls_queued_total") << "\n";

  EXPECT_TRUE(unexpected.empty()) << unexpected.size() << " calls ended otherwise, e.g. " << unexpected[0];
  EXPECT_EQ(ok + refused, kCalls);
  EXPECT_GT(ok, 0);
  const int cap = kMaxConnections * Shards();
  // More than one connection per shard was needed, never more than the cap.
  const double dials = Metric(a_, "ringside_peer_dials_total");
  EXPECT_GT(dials, 1) << "the burst never needed a second connection";
  EXPECT_EQ(Metric(a_, "ringside_peer_calls_refused_total"), refused);
  // More calls were answered than could run at once (4 streams x the cap per shard): the rest
  // waited for a stream instead of failing.
  EXPECT_GT(ok, 4 * cap);

  // Every socket of a is a listener (counted before the burst) or a connection its pool owns.
  std::string last;
  int peers = WaitSocketsOwned(a_, other_sockets, cap, 15s, &last);
  EXPECT_GE(peers, 1) << "sockets of the caller not accounted for: " << last;
  std::cout << "owned: " << last << "\n";
  // Extra connections close after the idle timeout (1 s): per shard that called b, one per
  // shard of b remains (b advertises its shard count; the caller keeps a connection to each).
  peers = WaitSocketsOwned(a_, other_sockets, Shards() * std::min(Shards(), kMaxConnections), 15s, &last);
  EXPECT_GE(peers, 1) << "idle extra connections were not closed: " << last;
  std::cout << "after idle timeout: " << last << "\n";

  // b still answers, and SIGTERM ends a promptly (no connection left behind to wait for).
  auto r = Invoke(a_.ports.http, "POST", "b", "echo", "after", {}, 10s);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 200) << r->body;
  a_.process->Signal(SIGTERM);
  EXPECT_EQ(a_.process->WaitExit(15s), std::optional<int>(0));
}

TEST_F(PeerConnectionsTest, StoppedPeerFailsCallsInFlightAsUnavailableAndRecoversAfterSigcont) {
  constexpr int kCalls = 8;
  ASSERT_NO_FATAL_FAILURE(StartEchoAppAndB({}));
  ASSERT_NO_FATAL_FAILURE(StartA({"--peer-keepalive-interval", "1s", "--peer-keepalive-timeout", "1s"}));
  ASSERT_TRUE(WaitUntilInvocable(a_.ports.http, "b", 15s));
  const double app_calls_before = Metric(b_, "ringside_app_calls_total");
  ASSERT_GE(app_calls_before, 0);

  std::mutex mu;
  std::vector<absl::StatusOr<HttpMessage>> results;
  std::vector<std::thread> clients;
  for (int i = 0; i < kCalls; ++i) {
    clients.emplace_back([&] {
      // The app would answer after 20 s; the bound below is far above the keepalive's.
      auto r = Invoke(a_.ports.http, "POST", "b", "sleep/20000", "x", {}, 60s);
      std::lock_guard<std::mutex> lock(mu);
      results.push_back(std::move(r));
    });
  }
  // Every call reached b's app: they are in flight when b stops.
  const Clock::time_point until = Clock::now() + 15s;
  while (Metric(b_, "ringside_app_calls_total") < app_calls_before + kCalls && Clock::now() < until) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_GE(Metric(b_, "ringside_app_calls_total"), app_calls_before + kCalls);
  b_.process->Signal(SIGSTOP);
  for (auto& t : clients) t.join();
  b_.process->Signal(SIGCONT);

  ASSERT_EQ(results.size(), static_cast<size_t>(kCalls));
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << "the call hung until the client gave up: " << r.status();
    EXPECT_EQ(r->status(), 500) << r->body;
    EXPECT_EQ(JsonStringField(r->body, "errorCode"), "ERR_DIRECT_INVOKE") << r->body;
    const std::string message = JsonStringField(r->body, "message");
    EXPECT_TRUE(absl::StrContains(message, "rpc error: code = Unavailable desc = ")) << message;
    EXPECT_TRUE(absl::StrContains(message, "keepalive ping failed to receive ACK within timeout")) << message;
  }
  EXPECT_GE(Metric(a_, "ringside_peer_keepalive_failures_total"), 1);

  // b runs again: new calls get through on a new connection.
  EXPECT_TRUE(WaitUntilInvocable(a_.ports.http, "b", 30s));
}

class PeerDeadlineTest : public PeerConnectionsTest {
 protected:
  void StartGrpcAppAndB() {
    auto app = StartGrpcEchoApp(dir_, &grpc_app_port_);
    ASSERT_TRUE(app.ok()) << app.status();
    app_ = std::move(*app);
    auto b = StartSidecar({.app_id = "b", .nr_db = nr_db_,
                           .extra_args = {"--app-port", absl::StrCat(grpc_app_port_), "--app-protocol", "grpc"}},
                          dir_);
    ASSERT_TRUE(b.ok()) << b.status();
    b_ = std::move(*b);
  }
  // The gRPC app's count of calls that ended cancelled (-1 if it cannot be asked).
  int64_t AppCancelled() {
    auto stub = testpb::Echo::NewStub(LocalChannel(grpc_app_port_));
    grpc::ClientContext context;
    SetTimeout(&context, 5s);
    testpb::StatsResponse stats;
    if (!stub->Stats(&context, testpb::StatsRequest(), &stats).ok()) return -1;
    return stats.cancelled_calls();
  }
  bool AppSawCancelAfter(int64_t before) {
    const Clock::time_point until = Clock::now() + 10s;
    while (Clock::now() < until) {
      if (AppCancelled() > before) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  uint16_t grpc_app_port_ = 0;
};

TEST_F(PeerDeadlineTest, DefaultDeadlineEndsASlowCallAndCancelsTheCalleesAppCall) {
  ASSERT_NO_FATAL_FAILURE(StartGrpcAppAndB());
  ASSERT_NO_FATAL_FAILURE(StartA({"--peer-call-timeout", "500ms"}));
  ASSERT_TRUE(WaitUntilInvocable(a_.ports.http, "b", 15s));
  const int64_t before = AppCancelled();
  ASSERT_GE(before, 0);

  // HTTP API: no caller deadline, so --peer-call-timeout applies.
  auto r = Invoke(a_.ports.http, "POST", "b", "sleep/10000", "x", {}, 30s);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 500) << r->body;
  EXPECT_EQ(JsonStringField(r->body, "errorCode"), "ERR_DIRECT_INVOKE") << r->body;
  EXPECT_EQ(JsonStringField(r->body, "message"),
            "failed to invoke, id: b, err: rpc error: code = DeadlineExceeded desc = context deadline exceeded")
      << r->body;
  EXPECT_GE(Metric(a_, "ringside_peer_deadlines_total"), 1);
  EXPECT_TRUE(AppSawCancelAfter(before)) << "the callee's app call was not cancelled";
}

TEST_F(PeerDeadlineTest, CallerGrpcTimeoutShorterThanTheAppDelayIsDeadlineExceeded) {
  ASSERT_NO_FATAL_FAILURE(StartGrpcAppAndB());
  ASSERT_NO_FATAL_FAILURE(StartA({}));  // default --peer-call-timeout (60 s) is not what ends it
  ASSERT_TRUE(WaitUntilInvocable(a_.ports.http, "b", 15s));
  const int64_t before = AppCancelled();
  ASSERT_GE(before, 0);

  auto dapr = runtime::Dapr::NewStub(LocalChannel(a_.ports.grpc));
  grpc::ClientContext context;
  SetTimeout(&context, 700ms);
  runtime::InvokeServiceRequest request;
  request.set_id("b");
  request.mutable_message()->set_method("sleep/10000");
  common::InvokeResponse response;
  const Clock::time_point start = Clock::now();
  grpc::Status status = dapr->InvokeService(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << Describe(status);
  EXPECT_LT(Clock::now() - start, 10s) << "the call was not ended by its deadline";
  EXPECT_TRUE(AppSawCancelAfter(before)) << "the callee's app call was not cancelled";
  // The sidecars are fine afterwards.
  EXPECT_TRUE(WaitUntilInvocable(a_.ports.http, "b", 10s));
}

}  // namespace
}  // namespace ringside::e2e
