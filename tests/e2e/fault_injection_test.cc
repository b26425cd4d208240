// Fault injection under constant load, with real processes and counting on both ends (issue 10:
// every request answered exactly once, a success or a clear Dapr-style error; none hung; no
// call delivered twice when no policy retries it). Each test prints one summary line
// "FAULT <test>: sent=... answered=... succeeded=... failed={kind=n} duplicates=... peak_rss
// ..." with the figures it measured. Other faults are covered elsewhere: failure_test.cc (peer
// SIGKILLed, app down), etcd_resolver_e2e_test.cc (etcd restart), graceful_drain_test.cc
// (drain), resiliency_test.cc (hung app).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <ctime>
#include <iostream>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/e2e/fault/counting_app.h"
#include "tests/e2e/fault/load.h"
#include "tests/e2e/fault/registry_rows.h"
#include "tests/e2e/fault/tcp_relay.h"
#include "tests/e2e/harness.h"

namespace ringside::e2e {
namespace {

using fault::CountingApp;
using fault::DeliveryLog;
using fault::InvocationLoad;
using fault::LoadFigures;
using fault::ExecSql;
using fault::RegisterPeer;

constexpr int kClientThreads = 4;  // concurrent callers driving the constant load

std::string Mib(pid_t pid) { return absl::StrCat(PeakRssBytes(pid) >> 20, "MiB"); }

class FaultInjectionTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!HasFailure()) return;
    for (const auto* s : {&a_, &b_, &b2_}) {
      if (s->process) std::cerr << "--- sidecar " << s->app_id << ":\n" << s->process->LogTail() << "\n";
    }
  }
  // Runs the load for `before`, calls `fault`, runs it for `after`, stops it; returns its figures.
  template <typename Fn>
  LoadFigures RunLoad(InvocationLoad& load, std::chrono::milliseconds before, Fn fault,
                      std::chrono::milliseconds after) {
    std::this_thread::sleep_for(before);
    fault();
    std::this_thread::sleep_for(after);
    load.Stop();
    return load.Figures();
  }
  // Every call answered, every answer either ok or `expected_failure`, duplicates none.
  void ExpectAccounting(const InvocationLoad& load, const LoadFigures& f, const std::string& expected_failure) {
    EXPECT_EQ(f.answered, f.sent) << "calls without an answer: " << f.Line();
    for (const auto& [kind, n] : f.failed) EXPECT_EQ(kind, expected_failure) << n << " calls: " << f.Line();
    EXPECT_EQ(log_.Duplicates(), 0) << "calls delivered twice to the app";
    // Every call the app never saw and that succeeded would be a made-up answer.
    std::lock_guard<std::mutex> lock(log_.mu);
    int ok_not_delivered = 0;
    for (const auto& [id, o] : load.outcomes()) {
      if (o.kind == "ok" && !log_.deliveries.contains(id)) ++ok_not_delivered;
    }
    EXPECT_EQ(ok_not_delivered, 0);
  }
  void Summary(const std::string& test, const LoadFigures& f, const std::string& extra) {
    std::cerr << "FAULT " << test << ": " << f.Line() << " duplicates=" << log_.Duplicates() << " " << extra
              << " peak_rss a=" << Mib(a_.process->pid()) << " b=" << Mib(b_.process->pid())
              << (b2_.process ? " b2=" + Mib(b2_.process->pid()) : "") << "\n";
  }
  // The first answer of each failure kind, so the summary shows what a user gets.
  static void PrintFailureExamples(const InvocationLoad& load) {
    std::set<std::string> shown;
    for (const auto& [id, o] : load.outcomes()) {
      if (o.kind != "ok" && shown.insert(o.kind).second) std::cerr << "  e.g. " << o.kind << ": " << o.detail << "\n";
    }
  }
  // A few more calls after the fault is over: all must succeed.
  void ExpectServingAfter(uint16_t port, const std::string& app_id) {
    for (int i = 0; i < 20; ++i) {
      auto r = Invoke(port, "POST", app_id, "echo", absl::StrCat("after/", i), {}, 10s);
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(r->status(), 200) << r->body;
    }
  }

  TempDir dir_;
  DeliveryLog log_;
  Sidecar a_;
  Sidecar b_;
  Sidecar b2_;
};

// 1a. The callee's app writes part of a response, then resets its connection (every 7th
// delivery), while 4 client threads keep calling through a -> b -> app. The reset calls get
// 500 ERR_DIRECT_INVOKE (the app was reached, so no retry: delivered once), all others succeed,
// and b keeps serving afterwards.
TEST_F(FaultInjectionTest, AppResetsConnectionMidResponse) {
  CountingApp app(&log_, [](int n) { return n % 7 == 0; });
  ASSERT_NE(app.port(), 0);
  const std::string db = dir_.File("nr.db");
  auto b = StartSidecar({.app_id = "b", .app_port = app.port(), .nr_db = db}, dir_);
  ASSERT_TRUE(b.ok()) << b.status();
  b_ = std::move(*b);
  auto a = StartSidecar({.app_id = "a", .nr_db = db}, dir_);
  ASSERT_TRUE(a.ok()) << a.status();
  a_ = std::move(*a);
  app.set_resetting(false);
  ASSERT_TRUE(WaitUntilInvocable(a_.ports.http, "b", 15s));
  app.set_resetting(true);

  InvocationLoad load(a_.ports.http, "b", kClientThreads);
  const LoadFigures f = RunLoad(load, 0ms, [] {}, 3s);
  app.set_resetting(false);

  ExpectAccounting(load, f, "500 ERR_DIRECT_INVOKE");
  EXPECT_GT(f.succeeded, 0) << f.Line();
  EXPECT_GT(f.failed.size(), 0u) << "no reset happened: " << f.Line();
  // Exactly the calls the app cut got the error.
  {
    std::lock_guard<std::mutex> lock(log_.mu);
    int reset_ok = 0;
    int failed_not_reset = 0;
    for (const auto& [id, o] : load.outcomes()) {
      const bool was_reset = log_.reset.contains(id);
      if (was_reset && o.kind == "ok") ++reset_ok;
      if (!was_reset && o.kind != "ok") ++failed_not_reset;
    }
    EXPECT_EQ(reset_ok, 0) << "a call whose response was cut was answered 200";
    EXPECT_EQ(failed_not_reset, 0) << "a call the app answered fully failed";
  }
  PrintFailureExamples(load);
  Summary("AppResetsConnectionMidResponse", f, absl::StrCat("app_resets=", log_.reset.size()));
  ExpectServingAfter(a_.ports.http, "b");
  EXPECT_TRUE(a_.process->Alive());
  EXPECT_TRUE(b_.process->Alive());
}

// 1b. The link between the sidecars is reset mid-response: a reaches b's internal port only
// through a TCP relay that RSTs both sides once b has sent a connection 2-20 KiB, under load.
// Calls on a cut connection get 500 ERR_DIRECT_INVOKE (b may have served them: not retried);
// no call is delivered twice; once the relay stops cutting, every call succeeds.
TEST_F(FaultInjectionTest, SidecarLinkResetMidResponse) {
  CountingApp app(&log_);
  ASSERT_NE(app.port(), 0);
  auto b = StartSidecar({.app_id = "b", .app_port = app.port(), .nr_db = dir_.File("b.db")}, dir_);
  ASSERT_TRUE(b.ok()) << b.status();
  b_ = std::move(*b);
  fault::TcpRelay relay(b_.ports.internal, [](int n) { return static_cast<size_t>(2000 + (n * 4999) % 18000); });
  ASSERT_NE(relay.port(), 0);
  relay.set_resetting(false);
  // a knows b only at the relay's address.
  auto a = StartSidecar({.app_id = "a", .nr_db = dir_.File("a.db")}, dir_);
  ASSERT_TRUE(a.ok()) << a.status();
  a_ = std::move(*a);
  ASSERT_TRUE(RegisterPeer(dir_.File("a.db"), "b", relay.port()));
  ASSERT_TRUE(WaitUntilInvocable(a_.ports.http, "b", 15s));
  relay.set_resetting(true);

  InvocationLoad load(a_.ports.http, "b", kClientThreads);
  const LoadFigures f = RunLoad(load, 0ms, [] {}, 3s);
  relay.set_resetting(false);

  ExpectAccounting(load, f, "500 ERR_DIRECT_INVOKE");
  EXPECT_GT(f.succeeded, 0) << f.Line();
  EXPECT_GT(relay.resets(), 0) << f.Line();
  PrintFailureExamples(load);
  Summary("SidecarLinkResetMidResponse", f,
          absl::StrCat("relay_resets=", relay.resets(), " relay_connections=", relay.connections()));
  ExpectServingAfter(a_.ports.http, "b");
  EXPECT_TRUE(a_.process->Alive());
  EXPECT_TRUE(b_.process->Alive());
}

// Holds the SQLite registry locked from outside: every lock byte of its WAL index (the -shm
// file: write, checkpoint, recovery and all read marks) taken exclusively with fcntl, as a
// stuck process holding the database would. No sidecar can then read or write the registry
// (SQLITE_BUSY); closing the fd releases the locks.
class RegistryLock {
 public:
  explicit RegistryLock(const std::string& db_path) {
    fd_ = ::open((db_path + "-shm").c_str(), O_RDWR | O_CLOEXEC);
    const auto give_up = Clock::now() + 5s;
    while (fd_ >= 0 && !locked_ && Clock::now() < give_up) {
      struct flock lock{};
      lock.l_type = F_WRLCK;
      lock.l_whence = SEEK_SET;
      lock.l_start = 120;  // UNIX_SHM_BASE in SQLite's os_unix.c
      lock.l_len = 8;      // SQLITE_SHM_NLOCK lock bytes
      locked_ = ::fcntl(fd_, F_SETLK, &lock) == 0;
      if (!locked_) std::this_thread::sleep_for(1ms);  // a sidecar holds a read mark briefly
    }
  }
  ~RegistryLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool locked() const { return locked_; }

 private:
  int fd_ = -1;          // the -shm file, open while the locks are held
  bool locked_ = false;  // all lock bytes held
};

// 3. The registry becomes unreachable under load, two ways: its `hosts` table is renamed away
// for 2 s (every read fails: a's log names the error), then the whole database is locked from
// outside for 2 s (reads stall). a keeps its last table: not one call fails. Once the registry
// is back, a new instance of b listed in it gets calls. a reads a registry of its own (a.db)
// where the test lists b's instances, fresh for an hour: so the outage hits a's reads alone,
// and b's liveness (its heartbeat, which an outage would also stop) is not what is tested.
TEST_F(FaultInjectionTest, RegistryUnreachableUnderLoadKeepsLastTable) {
  CountingApp app(&log_);
  CountingApp app2(&log_);
  ASSERT_NE(app.port(), 0);
  ASSERT_NE(app2.port(), 0);
  auto b = StartSidecar({.app_id = "b", .app_port = app.port(), .nr_db = dir_.File("b.db")}, dir_);
  ASSERT_TRUE(b.ok()) << b.status();
  b_ = std::move(*b);
  const std::string db = dir_.File("a.db");
  auto a = StartSidecar({.app_id = "a", .nr_db = db}, dir_);
  ASSERT_TRUE(a.ok()) << a.status();
  a_ = std::move(*a);
  ASSERT_TRUE(RegisterPeer(db, "b", b_.ports.internal));
  ASSERT_TRUE(WaitUntilInvocable(a_.ports.http, "b", 15s));

  InvocationLoad load(a_.ports.http, "b", kClientThreads);
  std::this_thread::sleep_for(500ms);
  const size_t log_before = a_.process->Log().size();
  std::string error;

  // Window 1: the table is gone.
  ASSERT_TRUE(ExecSql(db, "ALTER TABLE hosts RENAME TO hosts_away", &error)) << error;
  std::this_thread::sleep_for(2s);
  // a's control plane lists the registry every 500 ms and logs the failure; on a loaded machine
  // it may not have come round to it within the 2 s, so the window stays open (bounded) until
  // the line is there.
  auto logged = [&] { return a_.process->Log().substr(log_before).find("refreshing instances") != std::string::npos; };
  for (int i = 0; i < 100 && !logged(); ++i) std::this_thread::sleep_for(100ms);
  const bool a_logged_error = logged();
  ASSERT_TRUE(ExecSql(db, "ALTER TABLE hosts_away RENAME TO hosts", &error)) << error;
  std::this_thread::sleep_for(1s);
  // Window 2: the database is locked.
  {
    RegistryLock lock(db);
    ASSERT_TRUE(lock.locked()) << "could not lock " << db << "-shm";
    std::this_thread::sleep_for(2s);
  }
  std::this_thread::sleep_for(1s);
  const int sent_by_end_of_outage = load.sent();

  // The registry is back: a second instance of b is listed and gets calls.
  auto b2 = StartSidecar({.app_id = "b", .app_port = app2.port(), .nr_db = dir_.File("b2.db")}, dir_);
  ASSERT_TRUE(b2.ok()) << b2.status();
  b2_ = std::move(*b2);
  ASSERT_TRUE(RegisterPeer(db, "b", b2_.ports.internal, "b2"));
  for (int i = 0; i < 150 && app2.delivered() == 0; ++i) std::this_thread::sleep_for(100ms);
  std::this_thread::sleep_for(500ms);
  load.Stop();
  const LoadFigures f = load.Figures();

  EXPECT_TRUE(a_logged_error) << "the missing table did not reach a's control plane; a's log:\n"
                              << a_.process->LogTail();
  ExpectAccounting(load, f, "(none: no call may fail)");
  EXPECT_TRUE(f.failed.empty()) << f.Line();
  EXPECT_GT(app2.delivered(), 0) << "the new instance of b was never called";
  EXPECT_LT(f.sent, kClientThreads * 200000) << "the load ran out before the end";
  PrintFailureExamples(load);
  Summary("RegistryUnreachableUnderLoadKeepsLastTable", f,
          absl::StrCat("sent_by_end_of_outage=", sent_by_end_of_outage, " new_instance_delivered=",
                       app2.delivered(), " a_logged_registry_error=", a_logged_error));
}

}  // namespace
}  // namespace ringside::e2e
