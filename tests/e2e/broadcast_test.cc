// The broadcast cluster strategy seen from outside (issue 9): caller sidecar a names its cluster
// (east) and gives app id b the `broadcast` strategy; a static registry tags four instances of b
// with clusters (two east, two west). Each instance is a real ringsided with its own app; the
// apps run in this process and count every request they receive, so "every instance received
// the call" is counted where it matters.
//
//   client ──► a (cluster east) ──┬─► b0 (east) ──► app east-0
//                                 ├─► b1 (east) ──► app east-1
//                                 ├─► b2 (west) ──► app west-0
//                                 └─► b3 (west) ──► app west-1
//
// App id `one` is a plain (local-first) app id at b0's address: the single-call baseline for the
// latency comparison.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "dapr/proto/runtime/v1/dapr.grpc.pb.h"
#include "tests/e2e/grpc_helpers.h"
#include "tests/e2e/harness.h"

namespace ringside::e2e {
namespace {

namespace runtime = dapr::proto::runtime::v1;
namespace common = dapr::proto::common::v1;

constexpr int kInstances = 4;
constexpr const char* kNames[kInstances] = {"east-0", "east-1", "west-0", "west-1"};
constexpr const char* kClusters[kInstances] = {"east", "east", "west", "west"};

// An HTTP app in this process: answers every request 200 with its name as the body, except
// /status/<n>, answered <n>. Counts the requests it received (whole, body included).
class CountingApp {
 public:
  explicit CountingApp(std::string name) : name_(std::move(name)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_, 128) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "counting app " << name_ << " cannot listen";
      return;
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~CountingApp() {
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    if (acceptor_.joinable()) acceptor_.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (std::thread& t : workers_) t.join();
    ::close(listener_);
  }
  uint16_t port() const { return port_; }
  int requests() const { return requests_.load(); }

 private:
  void AcceptLoop() {
    while (!stopping_) {
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (stopping_) return;
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      fds_.push_back(fd);
      workers_.emplace_back([this, fd] { Serve(fd); });
    }
  }
  void Serve(int fd) {
    blocking_http::BlockingHttpConnection conn(fd);
    while (!stopping_) {
      auto req = conn.ReadRequestHead(blocking_http::kNoDeadline);
      if (!req.ok() || !conn.ReadRequestBody(&*req, blocking_http::kNoDeadline).ok()) break;
      requests_.fetch_add(1);
      int status = 200;
      const std::string& target = req->token2;
      if (absl::StartsWith(target, "/status/")) (void)absl::SimpleAtoi(target.substr(8, 3), &status);
      const std::string body = status == 200 ? name_ : absl::StrCat(name_, " says ", status);
      const std::string bytes = absl::StrCat("HTTP/1.1 ", status, " Status\r\nContent-Type: text/plain\r\n",
                                             "Content-Length: ", body.size(), "\r\n\r\n", body);
      if (!conn.SendAll(bytes, blocking_http::kNoDeadline).ok()) break;
    }
    // conn closes fd; forget it first so the destructor never shuts down a reused number.
    std::lock_guard<std::mutex> lock(mu_);
    fds_.erase(std::remove(fds_.begin(), fds_.end(), fd), fds_.end());
  }

  std::string name_;                 // the body of every 200 answer
  int listener_ = -1;                // listening socket
  uint16_t port_ = 0;                // where it listens
  std::atomic<bool> stopping_{false};  // the destructor runs
  std::atomic<int> requests_{0};     // whole requests received
  std::thread acceptor_;             // accepts connections
  std::mutex mu_;                    // guards fds_ and workers_
  std::vector<int> fds_;             // open connections (shut down at the end)
  std::vector<std::thread> workers_; // one per connection
};

class BroadcastTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    std::string apps;
    for (int i = 0; i < kInstances; ++i) {
      apps_[i] = std::make_unique<CountingApp>(kNames[i]);
      ASSERT_NE(apps_[i]->port(), 0);
      auto b = StartSidecar({.app_id = "b", .app_port = apps_[i]->port(), .nr_db = dir_.File(absl::StrCat("b", i, ".db"))},
                            dir_);
      ASSERT_TRUE(b.ok()) << b.status();
      b_[i] = std::move(*b);
      absl::StrAppend(&apps, "        - {appId: b, address: \"127.0.0.1:", b_[i].ports.internal,
                      "\", cluster: ", kClusters[i], "}\n");
    }
    absl::StrAppend(&apps, "        - {appId: one, address: \"127.0.0.1:", b_[0].ports.internal, "\", cluster: east}\n");
    const std::string config = dir_.File("a.yaml");
    std::ofstream(config) << "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: a}\n"
                             "spec:\n  nameResolution:\n    component: static\n    configuration:\n      apps:\n"
                          << apps
                          << "  ringside:\n    multiCluster:\n      cluster: east\n      strategy: local-first\n"
                             "      apps:\n        b: {strategy: broadcast}\n";
    auto a = StartSidecar({.app_id = "a", .nr_db = dir_.File("a.db"), .extra_args = {"--config", config}}, dir_);
    ASSERT_TRUE(a.ok()) << a.status();
    a_ = std::move(*a);
    // a's table lists b once the static file is read (the apps answer their names, not echoes).
    const auto deadline = Clock::now() + 15s;
    std::string last;
    bool up = false;
    while (!up && Clock::now() < deadline) {
      auto r = Invoke(a_.ports.http, "POST", "b", "echo", "ping", {}, 3s);
      up = r.ok() && r->status() == 200;
      last = r.ok() ? absl::StrCat(r->status(), " ", r->body) : r.status().ToString();
      if (!up) std::this_thread::sleep_for(100ms);
    }
    ASSERT_TRUE(up) << "b is not invocable through a within 15 s: " << last;
    // Every leg of the warm-up calls has landed before a test starts counting.
    WaitForCounts(Counts());
  }
  void TearDown() override {
    if (!HasFailure()) return;
    if (a_.process) std::cerr << "--- sidecar a:\n" << a_.process->LogTail() << "\n";
    for (int i = 0; i < kInstances; ++i) {
      if (b_[i].process) std::cerr << "--- " << kNames[i] << ":\n" << b_[i].process->LogTail(1500) << "\n";
    }
  }

  std::array<int, kInstances> Counts() const {
    std::array<int, kInstances> out;
    for (int i = 0; i < kInstances; ++i) out[i] = apps_[i]->requests();
    return out;
  }
  // Waits (bounded) until every count has reached `at_least` (legs whose answers were
  // discarded may still be arriving when the caller already has its answer, and on a loaded
  // machine one can lag well behind the others), then until the counts stop changing for 200 ms
  // (so a leg too many shows too). Returns the counts then; the caller asserts on them.
  std::array<int, kInstances> WaitForCounts(std::array<int, kInstances> last,
                                            std::optional<std::array<int, kInstances>> at_least = std::nullopt) const {
    auto reached = [&](const std::array<int, kInstances>& now) {
      if (!at_least) return true;
      for (int i = 0; i < kInstances; ++i)
        if (now[i] < (*at_least)[i]) return false;
      return true;
    };
    const auto deadline = Clock::now() + 15s;
    auto stable_since = Clock::now();
    while (Clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
      const auto now = Counts();
      if (now != last) {
        last = now;
        stable_since = Clock::now();
      } else if (reached(now) && Clock::now() - stable_since >= 200ms) {
        break;
      }
    }
    return last;
  }
  // `counts` plus `n` for each instance.
  static std::array<int, kInstances> Plus(std::array<int, kInstances> counts, int n) {
    for (int& c : counts) c += n;
    return counts;
  }
  void Kill(int i) {
    b_[i].process->Signal(SIGKILL);
    ASSERT_TRUE(b_[i].process->WaitExit(5s).has_value());
  }

  TempDir dir_;
  std::array<std::unique_ptr<CountingApp>, kInstances> apps_;
  std::array<Sidecar, kInstances> b_;
  Sidecar a_;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

TEST_F(BroadcastTest, EveryInstanceReceivesEachCallAndTheCallerGetsOneAnswer) {
  const auto before = Counts();
  constexpr int kCalls = 20;
  for (int k = 0; k < kCalls; ++k) {
    auto r = Invoke(a_.ports.http, "POST", "b", "echo", "hello");
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->status(), 200) << r->body;
    EXPECT_EQ(r->header("Ringside-Broadcast-Instances"), "4");
    EXPECT_TRUE(std::find(std::begin(kNames), std::end(kNames), r->body) != std::end(kNames))
        << "not one app's answer: " << r->body;
  }
  const auto after = WaitForCounts(Counts(), Plus(before, kCalls));
  for (int i = 0; i < kInstances; ++i) EXPECT_EQ(after[i] - before[i], kCalls) << kNames[i];
  EXPECT_EQ(ReadMetric(a_.ports.metrics, "ringside_broadcast_calls_total").value_or(0) >= kCalls, true);

  // The cost of a broadcast to 4 instances against one call to one instance (printed, not
  // asserted): medians over 200 calls each, on one keep-alive-less client connection per call.
  std::vector<double> one_ms, all_ms;
  for (int k = 0; k < 200; ++k) {
    auto t0 = Clock::now();
    auto r1 = Invoke(a_.ports.http, "POST", "one", "echo", "x");
    auto t1 = Clock::now();
    auto r4 = Invoke(a_.ports.http, "POST", "b", "echo", "x");
    auto t2 = Clock::now();
    ASSERT_TRUE(r1.ok() && r4.ok());
    ASSERT_EQ(r1->status(), 200);
    ASSERT_EQ(r4->status(), 200);
    one_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    all_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
  }
  const double m1 = Median(one_ms), m4 = Median(all_ms);
  std::cout << "[broadcast] median latency over 200 calls: single instance " << m1 << " ms, broadcast to 4 "
            << m4 << " ms, added " << (m4 - m1) << " ms\n";
}

TEST_F(BroadcastTest, AnAppAnswerThatIsNotSuccessIsReturnedWhenNoneSucceeds) {
  const auto before = Counts();
  auto r = Invoke(a_.ports.http, "GET", "b", "status/503");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 503) << r->body;
  EXPECT_TRUE(absl::StrContains(r->body, "says 503")) << r->body;
  EXPECT_EQ(r->header("Ringside-Broadcast-Instances"), "4");
  const auto after = WaitForCounts(Counts(), Plus(before, 1));
  for (int i = 0; i < kInstances; ++i) EXPECT_EQ(after[i] - before[i], 1) << kNames[i];
}

TEST_F(BroadcastTest, OneDeadInstanceStillAnswersAndIsNotCounted) {
  ASSERT_NO_FATAL_FAILURE(Kill(3));
  // The first calls may find the dead instance's connection not yet closed: they still
  // answer (three instances are up), and soon it is in dial back-off.
  const auto deadline = Clock::now() + 10s;
  bool settled = false;
  while (Clock::now() < deadline && !settled) {
    auto r = Invoke(a_.ports.http, "POST", "b", "echo", "warm");
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->status(), 200) << r->body;
    settled = r->header("Ringside-Broadcast-Instances") == "3";
  }
  ASSERT_TRUE(settled) << "the header never said 3 with one of four instances dead";
  const auto before = WaitForCounts(Counts());
  constexpr int kCalls = 10;
  for (int k = 0; k < kCalls; ++k) {
    auto r = Invoke(a_.ports.http, "POST", "b", "echo", "x");
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->status(), 200) << r->body;
    EXPECT_EQ(r->header("Ringside-Broadcast-Instances"), "3");
    EXPECT_NE(r->body, "west-1");
  }
  auto want = Plus(before, kCalls);
  want[3] = before[3];  // the dead one
  const auto after = WaitForCounts(Counts(), want);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(after[i] - before[i], kCalls) << kNames[i];
  EXPECT_EQ(after[3], before[3]);
}

TEST_F(BroadcastTest, AllDeadTheErrorListsEachInstance) {
  for (int i = 0; i < kInstances; ++i) ASSERT_NO_FATAL_FAILURE(Kill(i));
  auto r = Invoke(a_.ports.http, "POST", "b", "echo", "anyone?");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 500) << r->body;
  EXPECT_EQ(JsonStringField(r->body, "errorCode"), "ERR_DIRECT_INVOKE") << r->body;
  const std::string message = JsonStringField(r->body, "message");
  std::cout << "[broadcast] all dead: " << message << "\n";
  EXPECT_EQ(r->header("Ringside-Broadcast-Instances"), "0") << "no instance received it";
  EXPECT_TRUE(absl::StrContains(message, "broadcast to 4 instances, none succeeded")) << message;
  for (int i = 0; i < kInstances; ++i) {
    EXPECT_TRUE(absl::StrContains(message, absl::StrCat("127.0.0.1:", b_[i].ports.internal, " (cluster ",
                                                        kClusters[i], "): rpc error: code = Unavailable")))
        << kNames[i] << " missing in: " << message;
  }
  // Now the addresses whose dial failed are in dial back-off: the call goes to the usable rest
  // (an address whose first failure was on its old connection may still be usable), or, with
  // none usable, fails as every strategy does then, naming the strategy.
  auto again = Invoke(a_.ports.http, "POST", "b", "echo", "anyone?");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->status(), 500) << again->body;
  EXPECT_EQ(JsonStringField(again->body, "errorCode"), "ERR_DIRECT_INVOKE");
  const std::string again_message = JsonStringField(again->body, "message");
  std::cout << "[broadcast] the next call: " << again_message << "\n";
  EXPECT_TRUE(absl::StrContains(again_message, "instances, none succeeded: 127.0.0.1:") ||
              absl::StrContains(again_message, "no usable instance of app id b in any cluster (cluster strategy broadcast)"))
      << again_message;
}

TEST_F(BroadcastTest, GrpcInvokeServiceReachesEveryInstanceWithTheCountTrailer) {
  auto dapr = runtime::Dapr::NewStub(LocalChannel(a_.ports.grpc));
  const auto before = Counts();
  constexpr int kCalls = 10;
  for (int k = 0; k < kCalls; ++k) {
    grpc::ClientContext context;
    SetTimeout(&context, 10s);
    runtime::InvokeServiceRequest request;
    request.set_id("b");
    request.mutable_message()->set_method("echo");
    request.mutable_message()->mutable_data()->set_value("over grpc");
    request.mutable_message()->mutable_http_extension()->set_verb(common::HTTPExtension::POST);
    common::InvokeResponse response;
    const grpc::Status status = dapr->InvokeService(&context, request, &response);
    ASSERT_TRUE(status.ok()) << Describe(status);
    EXPECT_TRUE(std::find(std::begin(kNames), std::end(kNames), response.data().value()) != std::end(kNames))
        << response.data().value();
    EXPECT_EQ(MetadataValues(context.GetServerTrailingMetadata(), "ringside-broadcast-instances"),
              std::vector<std::string>{"4"});
  }
  const auto after = WaitForCounts(Counts(), Plus(before, kCalls));
  for (int i = 0; i < kInstances; ++i) EXPECT_EQ(after[i] - before[i], kCalls) << kNames[i];
}

TEST_F(BroadcastTest, StreamedBodiesAndProxiedCallsGetAClearErrorAndReachNoApp) {
  const auto before = Counts();
  // A chunked body is streamed (CallLocalStream): not broadcastable.
  RequestSpec chunked{.method = "POST", .target = "/v1.0/invoke/b/method/echo",
                      .headers = {{"Transfer-Encoding", "chunked"}}, .body = "5\r\nhello\r\n0\r\n\r\n",
                      .content_length = false};
  auto r = Send(a_.ports.http, chunked);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 400) << r->body;
  EXPECT_EQ(JsonStringField(r->body, "errorCode"), "ERR_DIRECT_INVOKE") << r->body;
  EXPECT_TRUE(absl::StrContains(JsonStringField(r->body, "message"), "broadcast cluster strategy")) << r->body;

  // A proxied gRPC call (dapr-app-id on the gRPC port) is a stream: not broadcastable.
  auto stub = testpb::Echo::NewStub(LocalChannel(a_.ports.grpc));
  grpc::ClientContext context;
  PrepareProxyCall(&context, "b", 10s);
  testpb::EchoRequest request;
  testpb::EchoResponse response;
  const grpc::Status status = stub->Unary(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "broadcast cluster strategy")) << Describe(status);

  const auto after = WaitForCounts(Counts());
  EXPECT_EQ(after, before) << "a rejected call reached an app";
  EXPECT_GE(ReadMetric(a_.ports.metrics, "ringside_broadcast_rejected_total").value_or(0), 2);
}

}  // namespace
}  // namespace ringside::e2e
