// Helpers for the mdns tests that need real multicast: a lab of network namespaces on one
// bridge (netns_lab.sh), entering a namespace on the calling thread, a private avahi-daemon
// (with its own dbus-daemon) inside one, and a sink that records what a resolver publishes.
// Everything they start is stopped by pid; namespaces are deleted on destruction.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controlplane/resolvers/mdns/mdns_resolver.h"
#include "controlplane/resolvers/resolver.h"
#include "tests/e2e/harness.h"

namespace ringside::mdns_test {

// Namespaces <prefix>-h1..hN on 198.51.100.0/24 (host i has 198.51.100.i) plus <prefix>-br.
class NetnsLab {
 public:
  static absl::StatusOr<std::unique_ptr<NetnsLab>> Create(int hosts);
  ~NetnsLab();
  std::string host(int i) const;             // namespace name of host i (1-based)
  static std::string address(int i);          // its IPv4 address
  const std::string& prefix() const { return prefix_; }

 private:
  NetnsLab(std::string prefix, int hosts) : prefix_(std::move(prefix)), hosts_(hosts) {}
  std::string prefix_;  // unique per process
  int hosts_;           // number of host namespaces
};

// Moves the calling thread into a named network namespace until destruction. Sockets made and
// processes forked meanwhile live there.
class InNetns {
 public:
  explicit InNetns(const std::string& name);
  ~InNetns();
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

 private:
  int saved_ = -1;     // fd of the namespace we came from
  bool ok_ = false;    // setns succeeded
  std::string error_;  // why not
};

// A dbus-daemon (socket in `dir`) and an avahi-daemon in namespace `ns` using it, with host
// name `host_name`, IPv4 only, on eth0. Tools run through run_tool() see that bus.
class PrivateAvahi {
 public:
  static absl::StatusOr<std::unique_ptr<PrivateAvahi>> Start(const std::string& ns, const std::string& host_name,
                                                             const e2e::TempDir& dir);
  // "DBUS_SYSTEM_BUS_ADDRESS=unix:path=..." for children that talk to this avahi.
  std::string bus_env() const { return "DBUS_SYSTEM_BUS_ADDRESS=unix:path=" + socket_; }
  std::string log_tail() const { return avahi_->LogTail(); }

 private:
  std::string socket_;                         // dbus socket path
  std::unique_ptr<e2e::ChildProcess> dbus_;    // dbus-daemon
  std::unique_ptr<e2e::ChildProcess> avahi_;   // avahi-daemon
};

// Runs `argv` to completion (bounded by `timeout`, then killed) in namespace `ns` with `env`
// added; returns exit code and combined output.
struct ToolResult {
  int exit_code = -1;   // 128+signal when killed
  std::string output;   // stdout and stderr
};
ToolResult RunTool(const std::string& ns, const std::vector<std::string>& argv, const std::vector<std::string>& env,
                   const e2e::TempDir& dir, std::chrono::milliseconds timeout);
// Spawns `argv` in namespace `ns` (the first element is resolved on PATH).
absl::StatusOr<std::unique_ptr<e2e::ChildProcess>> SpawnIn(const std::string& ns, const std::vector<std::string>& argv,
                                                           const std::vector<std::string>& env, const std::string& log);

// How long a test waits for a resolver to publish what it expects. An answer normally comes in
// milliseconds, "none found" after the first browse window (1 s) and a goodbye at once; the
// bound only has to stay far below the records' 60 s TTL (a goodbye must not be mistaken for an
// expiry) and far above what a starved, sanitized resolver thread on a loaded machine needs.
inline constexpr std::chrono::milliseconds kWait{10000};

// Records publish_app calls; waits are bounded.
class RecordingSink final : public resolvers::InstanceSink {
 public:
  struct Publish {
    std::string app_id;                  // as published
    std::vector<std::string> addresses;  // address_text of each instance
    std::chrono::steady_clock::time_point at;  // when it arrived
  };
  void publish_all(std::vector<snapshot::Instance> instances) override;
  void publish_app(std::string app_id, std::string ns, std::vector<snapshot::Instance> instances) override;
  void report_status(const absl::Status&) override {}

  // The first publish for `app_id` after index `from` that satisfies `pred`, or nullopt.
  std::optional<Publish> WaitFor(const std::string& app_id, const std::function<bool(const Publish&)>& pred,
                                 std::chrono::milliseconds timeout, size_t from = 0);
  size_t count();
  std::string Describe();  // every publish so far, for failure messages

 private:
  std::mutex mu_;                   // guards publishes_
  std::condition_variable cv_;      // signalled on every publish
  std::vector<Publish> publishes_;  // in arrival order
};

// What a test sidecar announces: app id, ip:port of its internal port, host name.
resolvers::SelfRegistration Self(const std::string& app_id, const std::string& ip, int port, const std::string& host);

// An mDNS resolver started inside namespace `ns` (its sockets stay there); nullptr (with a test
// failure recorded) when it cannot start.
std::unique_ptr<mdns::MdnsResolver> StartIn(const std::string& ns, const resolvers::SelfRegistration& self,
                                            RecordingSink* sink);

}  // namespace ringside::mdns_test
