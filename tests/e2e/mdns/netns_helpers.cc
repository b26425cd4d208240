#include "tests/e2e/mdns/netns_helpers.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ringside::mdns_test {
namespace {

std::string LabScript() { return std::string(RINGSIDE_MDNS_TEST_DIR) + "/netns_lab.sh"; }

// Absolute path of `name` on PATH (plus the sbin directories root has), or "".
std::string Which(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/sbin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= path.size()) {
    size_t colon = path.find(':', start);
    if (colon == std::string::npos) colon = path.size();
    const std::string candidate = path.substr(start, colon - start) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = colon + 1;
  }
  return "";
}

absl::Status RunScript(const std::vector<std::string>& args) {
  std::string cmd = "bash " + LabScript();
  for (const std::string& a : args) cmd += " " + a;
  cmd += " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return absl::InternalError("popen failed");
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  const int rc = pclose(p);
  if (rc != 0) return absl::FailedPreconditionError(absl::StrCat(cmd, " failed (", rc, "): ", out));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<NetnsLab>> NetnsLab::Create(int hosts) {
  // Short and unique per process (veth names are limited to 15 characters).
  std::string prefix = absl::StrCat("mdns", getpid() % 10000000);
  if (absl::Status s = RunScript({"up", prefix, absl::StrCat(hosts)}); !s.ok()) return s;
  return std::unique_ptr<NetnsLab>(new NetnsLab(prefix, hosts));
}

NetnsLab::~NetnsLab() { (void)RunScript({"down", prefix_, absl::StrCat(hosts_)}); }

std::string NetnsLab::host(int i) const { return absl::StrCat(prefix_, "-h", i); }
std::string NetnsLab::address(int i) { return absl::StrCat("198.51.100.", i); }

InNetns::InNetns(const std::string& name) {
  saved_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  const std::string path = "/run/netns/" + name;
  const int target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (saved_ < 0 || target < 0) {
    error_ = absl::StrCat("cannot open ", path, ": ", std::strerror(errno));
  } else if (setns(target, CLONE_NEWNET) != 0) {
    error_ = absl::StrCat("setns ", name, ": ", std::strerror(errno));
  } else {
    ok_ = true;
  }
  if (target >= 0) close(target);
}

InNetns::~InNetns() {
  if (ok_) (void)setns(saved_, CLONE_NEWNET);
  if (saved_ >= 0) close(saved_);
}

absl::StatusOr<std::unique_ptr<e2e::ChildProcess>> SpawnIn(const std::string& ns, const std::vector<std::string>& argv,
                                                           const std::vector<std::string>& env, const std::string& log) {
  const std::string exe = Which(argv.at(0));
  if (exe.empty()) return absl::NotFoundError(absl::StrCat(argv[0], " is not installed (scripts/install-deps.sh)"));
  InNetns in(ns);
  if (!in.ok()) return absl::FailedPreconditionError(in.error());
  // fork() copies the calling thread's network namespace into the child.
  return e2e::ChildProcess::Spawn(exe, std::vector<std::string>(argv.begin() + 1, argv.end()), env, log);
}

ToolResult RunTool(const std::string& ns, const std::vector<std::string>& argv, const std::vector<std::string>& env,
                   const e2e::TempDir& dir, std::chrono::milliseconds timeout) {
  static int counter = 0;
  const std::string log = dir.File(absl::StrCat("tool-", ++counter, ".log"));
  ToolResult r;
  auto child = SpawnIn(ns, argv, env, log);
  if (!child.ok()) {
    r.output = std::string(child.status().message());
    return r;
  }
  std::optional<int> code = (*child)->WaitExit(timeout);
  if (!code) {
    (*child)->Signal(SIGKILL);
    code = (*child)->WaitExit(std::chrono::seconds(5));
  }
  r.exit_code = code.value_or(-1);
  r.output = (*child)->Log();
  return r;
}

absl::StatusOr<std::unique_ptr<PrivateAvahi>> PrivateAvahi::Start(const std::string& ns, const std::string& host_name,
                                                                   const e2e::TempDir& dir) {
  auto avahi = std::unique_ptr<PrivateAvahi>(new PrivateAvahi());
  avahi->socket_ = dir.File("system_bus_socket");
  {
    std::ofstream conf(dir.File("bus.conf"));
    conf << "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
            " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
            "<busconfig>\n  <type>system</type>\n  <listen>unix:path="
         << avahi->socket_
         << "</listen>\n  <auth>EXTERNAL</auth>\n"
            "  <policy context=\"default\">\n    <allow user=\"*\"/>\n    <allow own=\"*\"/>\n"
            "    <allow send_destination=\"*\"/>\n    <allow receive_sender=\"*\"/>\n  </policy>\n</busconfig>\n";
  }
  {
    std::ofstream conf(dir.File("avahi-daemon.conf"));
    conf << "[server]\nhost-name=" << host_name
         << "\ndomain-name=local\nuse-ipv4=yes\nuse-ipv6=no\nallow-interfaces=eth0\nenable-dbus=yes\n"
            "ratelimit-interval-usec=1000000\nratelimit-burst=1000\n"
            "[wide-area]\nenable-wide-area=no\n"
            "[publish]\npublish-addresses=yes\npublish-hinfo=no\npublish-workstation=no\n"
            "publish-aaaa-on-ipv4=no\npublish-a-on-ipv6=no\n"
            "[reflector]\nenable-reflector=no\n";
  }
  auto dbus = SpawnIn(ns, {"dbus-daemon", "--nofork", "--nopidfile", "--config-file=" + dir.File("bus.conf")}, {},
                      dir.File("dbus-daemon.log"));
  if (!dbus.ok()) return dbus.status();
  avahi->dbus_ = *std::move(dbus);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  struct stat st;
  while (stat(avahi->socket_.c_str(), &st) != 0) {
    if (std::chrono::steady_clock::now() > deadline || !avahi->dbus_->Alive())
      return absl::DeadlineExceededError(absl::StrCat("dbus-daemon did not listen: ", avahi->dbus_->LogTail()));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // avahi-daemon insists on its own pid file and socket in /run/avahi-daemon: give it a private
  // tmpfs there (in its own mount namespace) so a system avahi-daemon, if any, is not disturbed.
  std::error_code ignored;
  std::filesystem::create_directories("/run/avahi-daemon", ignored);
  auto daemon = SpawnIn(ns,
                        {"unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
                         "mount -t tmpfs ringside-mdns-test /run/avahi-daemon && exec avahi-daemon --no-drop-root "
                         "--no-chroot --no-rlimits -f " +
                             dir.File("avahi-daemon.conf")},
                        {avahi->bus_env()}, dir.File("avahi-daemon.log"));
  if (!daemon.ok()) return daemon.status();
  avahi->avahi_ = *std::move(daemon);
  while (avahi->avahi_->Log().find("Server startup complete") == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline || !avahi->avahi_->Alive())
      return absl::DeadlineExceededError(absl::StrCat("avahi-daemon did not start: ", avahi->avahi_->LogTail()));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return avahi;
}

void RecordingSink::publish_all(std::vector<snapshot::Instance> instances) {
  for (const snapshot::Instance& i : instances) publish_app(i.app_id, i.app_namespace, {i});
}

void RecordingSink::publish_app(std::string app_id, std::string, std::vector<snapshot::Instance> instances) {
  Publish p{std::move(app_id), {}, std::chrono::steady_clock::now()};
  for (const snapshot::Instance& i : instances) p.addresses.push_back(i.address_text);
  {
    std::lock_guard<std::mutex> lock(mu_);
    publishes_.push_back(std::move(p));
  }
  cv_.notify_all();
}

std::optional<RecordingSink::Publish> RecordingSink::WaitFor(const std::string& app_id,
                                                             const std::function<bool(const Publish&)>& pred,
                                                             std::chrono::milliseconds timeout, size_t from) {
  std::unique_lock<std::mutex> lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t next = from;
  for (;;) {
    for (; next < publishes_.size(); ++next)
      if (publishes_[next].app_id == app_id && pred(publishes_[next])) return publishes_[next];
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && next == publishes_.size()) return std::nullopt;
  }
}

size_t RecordingSink::count() {
  std::lock_guard<std::mutex> lock(mu_);
  return publishes_.size();
}

std::string RecordingSink::Describe() {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const Publish& p : publishes_) absl::StrAppend(&out, p.app_id, " -> [", absl::StrJoin(p.addresses, ", "), "]\n");
  return out.empty() ? "(nothing published)\n" : out;
}

resolvers::SelfRegistration Self(const std::string& app_id, const std::string& ip, int port, const std::string& host) {
  resolvers::SelfRegistration self;
  self.app_id = app_id;
  self.address = ip + ":" + std::to_string(port);
  self.internal_port = port;
  self.host_name = host;
  return self;
}

std::unique_ptr<mdns::MdnsResolver> StartIn(const std::string& ns, const resolvers::SelfRegistration& self,
                                            RecordingSink* sink) {
  InNetns in(ns);
  EXPECT_TRUE(in.ok()) << in.error();
  if (!in.ok()) return nullptr;
  auto r = std::make_unique<mdns::MdnsResolver>(mdns::MdnsOptions{});
  absl::Status s = r->start(self, sink);
  EXPECT_TRUE(s.ok()) << s;
  if (!s.ok()) return nullptr;
  return r;
}

}  // namespace ringside::mdns_test
