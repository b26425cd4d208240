// --app-max-concurrency (issue 10), with real processes: a calls c, whose echo app reports the
// most requests it ever had at once (/peak). The limit holds per sidecar across all of c's
// shards (the e2e suite also runs with two), waiting calls go through in turn, and calls past the
// wait queue fail fast with RESOURCE_EXHAUSTED (ERR_DIRECT_INVOKE for HTTP callers) without
// reaching the app.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/e2e/harness.h"

namespace ringside::e2e {
namespace {

class AppConcurrencyTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> c_flags) {
    nr_db_ = dir_.File("nr.db");
    auto app = StartEchoApp(dir_, &app_port_);
    ASSERT_TRUE(app.ok()) << app.status();
    app_ = std::move(*app);
    auto c = StartSidecar({.app_id = "c", .app_port = app_port_, .nr_db = nr_db_, .extra_args = std::move(c_flags)},
                          dir_);
    ASSERT_TRUE(c.ok()) << c.status();
    c_ = std::move(*c);
    auto a = StartSidecar({.app_id = "a", .nr_db = nr_db_}, dir_);
    ASSERT_TRUE(a.ok()) << a.status();
    a_ = std::move(*a);
    ASSERT_TRUE(WaitUntilInvocable(a_.ports.http, "c", 15s)) << c_.process->LogTail();
  }
  int64_t AppNumber(const char* route) {
    RequestSpec spec;
    spec.target = route;
    spec.content_length = false;
    auto r = Send(app_port_, spec, 5s);
    int64_t n = -1;
    if (!r.ok() || r->status() != 200 || !absl::SimpleAtoi(r->body, &n)) return -1;
    return n;
  }
  // `n` calls of /sleep/<ms> through a at once, each on its own connection.
  std::vector<absl::StatusOr<HttpMessage>> Burst(int n, int sleep_ms) {
    std::vector<std::future<absl::StatusOr<HttpMessage>>> calls;
    for (int i = 0; i < n; ++i) {
      calls.push_back(std::async(std::launch::async, [this, sleep_ms] {
        return Invoke(a_.ports.http, "GET", "c", absl::StrCat("sleep/", sleep_ms), {}, {}, 30s);
      }));
    }
    std::vector<absl::StatusOr<HttpMessage>> out;
    for (auto& f : calls) out.push_back(f.get());
    return out;
  }

  TempDir dir_;
  std::string nr_db_;
  uint16_t app_port_ = 0;
  std::unique_ptr<ChildProcess> app_;
  Sidecar c_, a_;
};

TEST_F(AppConcurrencyTest, TheAppNeverSeesMoreThanTheLimitAndWaitingCallsAllGoThrough) {
  ASSERT_NO_FATAL_FAILURE(Start({"--app-max-concurrency", "2"}));
  const int64_t served = AppNumber("/served");
  // While the burst runs, c's gauges show the calls waiting for a permit (bounded polling).
  std::atomic<bool> burst_done{false};
  double most_waiting = 0;
  std::thread watcher([&] {
    for (int i = 0; i < 400 && !burst_done.load(); ++i) {
      most_waiting = std::max(most_waiting, ReadMetric(c_.ports.metrics, "ringside_app_calls_waiting").value_or(0));
      std::this_thread::sleep_for(10ms);
    }
  });
  const auto results = Burst(8, 300);
  burst_done = true;
  watcher.join();
  EXPECT_GE(most_waiting, 1) << "ringside_app_calls_waiting never showed a waiting call";
  EXPECT_EQ(ReadMetric(c_.ports.metrics, "ringside_app_calls_waiting").value_or(-1), 0);
  const double app_connections = ReadMetric(c_.ports.metrics, "ringside_app_connections").value_or(-1);
  EXPECT_GE(app_connections, 1);
  EXPECT_LE(app_connections, 8);
  int ok = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status(), 200) << r->body;
    ok += r->status() == 200;
  }
  EXPECT_EQ(ok, 8);
  EXPECT_EQ(AppNumber("/served"), served + 8);
  const int64_t peak = AppNumber("/peak");
  EXPECT_GE(peak, 1);
  EXPECT_LE(peak, 2) << "the app saw more calls at once than --app-max-concurrency";
}

TEST_F(AppConcurrencyTest, CallsPastTheWaitQueueFailFastAndNeverReachTheApp) {
  ASSERT_NO_FATAL_FAILURE(Start({"--app-max-concurrency", "1", "--app-concurrency-queue", "0"}));
  const int64_t served = AppNumber("/served");
  const auto results = Burst(6, 500);
  int ok = 0;
  int refused = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    if (r->status() == 200) {
      ++ok;
      continue;
    }
    EXPECT_EQ(r->status(), 500) << r->body;
    EXPECT_NE(r->body.find("\"errorCode\":\"ERR_DIRECT_INVOKE\""), std::string::npos) << r->body;
    EXPECT_NE(r->body.find("code = ResourceExhausted desc = error invoking app channel: too many concurrent calls "
                           "to the app (--app-max-concurrency 1)"),
              std::string::npos)
        << r->body;
    ++refused;
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(refused, 1) << "six calls at once, one permit, no queue: some must be refused";
  EXPECT_EQ(AppNumber("/served"), served + ok) << "a refused call reached the app";
  EXPECT_LE(AppNumber("/peak"), 1);
}

TEST_F(AppConcurrencyTest, ACallWaitingLongerThanTheTimeoutFailsWithoutReachingTheApp) {
  ASSERT_NO_FATAL_FAILURE(Start({"--app-max-concurrency", "1", "--app-concurrency-timeout", "200ms"}));
  const int64_t served = AppNumber("/served");
  // One call holds the only permit for 2 s; the others wait 200 ms and give up.
  const auto results = Burst(3, 2000);
  int ok = 0;
  int timed_out = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    if (r->status() == 200) {
      ++ok;
    } else if (r->body.find("too many concurrent calls") != std::string::npos) {
      ++timed_out;
    } else {
      ADD_FAILURE() << r->status() << " " << r->body;
    }
  }
  EXPECT_EQ(ok + timed_out, 3);
  EXPECT_GE(timed_out, 1);
  EXPECT_EQ(AppNumber("/served"), served + ok);
}

}  // namespace
}  // namespace ringside::e2e
