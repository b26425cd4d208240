// What ringside-sync needs from code it shares with ringsided: resolvers started with an empty
// app id read the registry without joining it (sqlite, etcd), and the metrics server's opt-in
// /healthz.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "controlplane/metrics/metrics_server.h"
#include "controlplane/resolvers/etcd/etcd_options.h"
#include "controlplane/resolvers/etcd/etcd_resolver.h"
#include "controlplane/resolvers/sqlite_resolver.h"
#include "gtest/gtest.h"
#include "tests/unit/controlplane/etcd/etcd_server.h"

namespace ringside::sync {
namespace {

class CollectingSink final : public resolvers::InstanceSink {
 public:
  void publish_all(std::vector<snapshot::Instance> instances) override {
    std::lock_guard<std::mutex> lock(mu);
    last = std::move(instances);
    ++publishes;
  }
  void publish_app(std::string, std::string, std::vector<snapshot::Instance>) override {}
  void report_status(const absl::Status&) override {}
  std::mutex mu;                         // guards below
  std::vector<snapshot::Instance> last;  // last publish_all
  int publishes = 0;                     // publish_all calls
};

resolvers::SelfRegistration member(const std::string& app, const std::string& address) {
  resolvers::SelfRegistration self;
  self.app_id = app;
  self.app_namespace = "default";
  self.address = address;
  return self;
}

TEST(WatchOnlyTest, AnSqliteResolverWithoutAnAppIdListsButNeverRegisters) {
  const std::string path = ::testing::TempDir() + "/watch_only_" + std::to_string(getpid()) + ".db";
  std::remove(path.c_str());
  config::SqliteOptions o;
  o.path = path;
  o.update_interval = std::chrono::seconds(60);
  resolvers::SqliteResolver registered(o);
  ASSERT_TRUE(registered.start(member("echo", "127.0.0.1:40001"), nullptr).ok());
  {
    resolvers::SqliteResolver watcher(o);
    absl::Status s = watcher.start(resolvers::SelfRegistration{}, nullptr);
    ASSERT_TRUE(s.ok()) << s;
    auto listed = watcher.list();
    ASSERT_TRUE(listed.ok()) << listed.status();
    ASSERT_EQ(listed->size(), 1u);  // only the member: the watcher added no row
    EXPECT_EQ((*listed)[0].app_id, "echo");
    EXPECT_TRUE(watcher.heartbeat().ok());
    watcher.stop();  // deletes nothing
  }
  auto after = registered.list();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), 1u);
  registered.stop();
  std::remove(path.c_str());
}

TEST(WatchOnlyTest, AnEtcdResolverWithoutAnAppIdWatchesButNeverRegisters) {
  testing::EtcdServer etcd;
  absl::Status up = etcd.Start();
  ASSERT_TRUE(up.ok()) << "cannot run etcd (install etcd-server): " << up;
  auto options = resolvers::etcd::parse_etcd_options("endpoints: [\"" + etcd.endpoint() + "\"]\n");
  ASSERT_TRUE(options.ok()) << options.status();
  CollectingSink watcher_sink, member_sink;
  resolvers::etcd::EtcdResolver watcher(*options);
  ASSERT_TRUE(watcher.start(resolvers::SelfRegistration{}, &watcher_sink).ok());
  EXPECT_EQ(etcd.Etcdctl("get --prefix /ringside/instances --keys-only"), "");
  resolvers::etcd::EtcdResolver registered(*options);
  ASSERT_TRUE(registered.start(member("echo", "127.0.0.1:40001"), &member_sink).ok());
  bool seen = false;
  for (int i = 0; i < 200 && !seen; ++i) {
    {
      std::lock_guard<std::mutex> lock(watcher_sink.mu);
      seen = watcher_sink.last.size() == 1;
    }
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(seen) << "the watch-only resolver did not see the member's registration";
  registered.stop();
  watcher.stop();
}

std::string get(uint16_t port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

TEST(WatchOnlyTest, TheMetricsServerAnswersHealthzOnlyWhenAskedTo) {
  metrics::MetricsServer plain([] { return std::string("x 1\n"); });
  ASSERT_TRUE(plain.start("127.0.0.1", 0).ok());
  EXPECT_NE(get(plain.port(), "/healthz").find("404"), std::string::npos);

  std::atomic<bool> healthy{false};
  metrics::MetricsServer with_health([] { return std::string("x 1\n"); });
  with_health.serve_healthz([&] { return healthy.load(); });
  ASSERT_TRUE(with_health.start("127.0.0.1", 0).ok());
  EXPECT_NE(get(with_health.port(), "/healthz").find("503 Service Unavailable"), std::string::npos);
  healthy = true;
  const std::string ok = get(with_health.port(), "/healthz");
  EXPECT_NE(ok.find("200 OK"), std::string::npos) << ok;
  EXPECT_NE(ok.find("\r\n\r\nok\n"), std::string::npos) << ok;
  EXPECT_NE(get(with_health.port(), "/metrics").find("x 1"), std::string::npos);
}

}  // namespace
}  // namespace ringside::sync
