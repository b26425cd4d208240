#include "tests/unit/dns/dnsmasq_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/support/free_port/free_port.h"

namespace ringside::testing {

namespace {

constexpr const char* kDnsmasq = "/usr/sbin/dnsmasq";

// A test port (free_port.h) that is also free for UDP on 127.0.0.1.
uint16_t free_udp_tcp_port() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    const uint16_t port = PickTestPort();
    if (port == 0) return 0;
    int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    const bool ok = bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(u);
    if (ok) return port;
  }
  return 0;
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// One A query for "probe.invalid" over UDP; true when any answer comes back within 200 ms.
bool answers(uint16_t port) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  timeval tv{0, 200000};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  const unsigned char query[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                                 5, 'p', 'r', 'o', 'b', 'e', 7, 'i', 'n', 'v', 'a', 'l', 'i', 'd', 0,
                                 0, 1, 0, 1};
  sendto(s, query, sizeof query, 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  unsigned char buf[512];
  bool ok = recv(s, buf, sizeof buf, 0) > 0;
  close(s);
  return ok;
}

}  // namespace

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

absl::StatusOr<std::unique_ptr<DnsmasqServer>> DnsmasqServer::Start(std::string hosts, int ttl_seconds,
                                                                    std::vector<std::string> local_domains) {
  if (access(kDnsmasq, X_OK) != 0)
    return absl::FailedPreconditionError(absl::StrCat(kDnsmasq, " is missing: install dnsmasq-base (scripts/install-deps.sh)"));
  std::unique_ptr<DnsmasqServer> d(new DnsmasqServer);
  std::string tmpl = (std::filesystem::temp_directory_path() / "ringside-dnsmasq-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) return absl::InternalError("mkdtemp failed");
  d->dir_ = tmpl;
  d->hosts_path_ = d->dir_ + "/hosts";
  d->log_path_ = d->dir_ + "/queries.log";
  d->ttl_ = ttl_seconds;
  d->local_domains_ = std::move(local_domains);
  if (!write_file(d->hosts_path_, hosts)) return absl::InternalError("cannot write the hosts file");
  // A port someone else grabbed between our probe and dnsmasq's bind: try another one.
  absl::Status last;
  for (int attempt = 0; attempt < 5; ++attempt) {
    d->port_ = free_udp_tcp_port();
    if (d->port_ == 0) return absl::InternalError("no free UDP+TCP port on 127.0.0.1");
    last = d->Spawn();
    if (last.ok()) return d;
  }
  return last;
}

absl::Status DnsmasqServer::Spawn() {
  std::vector<std::string> args = {
      kDnsmasq, "--no-daemon", "--conf-file=/dev/null", "--pid-file=", "--bind-interfaces",
      "--listen-address=127.0.0.1", absl::StrCat("--port=", port_), "--no-resolv", "--no-hosts",
      absl::StrCat("--addn-hosts=", hosts_path_), absl::StrCat("--local-ttl=", ttl_),
      "--cache-size=0", "--log-queries", absl::StrCat("--log-facility=", log_path_)};
  // As root dnsmasq would drop to "nobody", which cannot read our private directory.
  if (getuid() == 0) args.push_back("--user=root");
  for (const std::string& d : local_domains_) args.push_back(absl::StrCat("--local=/", d, "/"));
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string stderr_path = dir_ + "/stderr.log";
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    int fd = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  pid_ = pid;
  hups_ = 0;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < end) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::UnavailableError(absl::StrCat("dnsmasq exited at start: ", read_file(stderr_path)));
    }
    if (answers(port_)) return absl::OkStatus();
  }
  Kill();
  return absl::DeadlineExceededError(absl::StrCat("dnsmasq did not answer within 5 s: ", read_file(stderr_path)));
}

DnsmasqServer::~DnsmasqServer() {
  Kill();
  if (!dir_.empty() && !getenv("RINGSIDE_KEEP_DNSMASQ")) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

void DnsmasqServer::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

absl::Status DnsmasqServer::Restart() {
  Kill();
  // Same port (the resolver under test is configured with it). While dnsmasq was down another
  // test process may have taken the port for a moment: retry, bounded, until it is free again.
  absl::Status last;
  for (int attempt = 0; attempt < 20; ++attempt) {
    last = Spawn();
    if (last.ok()) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return last;
}

absl::Status DnsmasqServer::ReplaceHosts(std::string hosts) {
  if (pid_ <= 0) return absl::FailedPreconditionError("dnsmasq is not running");
  // Write a new file and rename it in, so dnsmasq never reads a half-written one.
  const std::string tmp = hosts_path_ + ".new";
  if (!write_file(tmp, hosts) || rename(tmp.c_str(), hosts_path_.c_str()) != 0)
    return absl::InternalError("cannot rewrite the hosts file");
  const std::string marker = absl::StrCat("read ", hosts_path_);
  auto reads = [&] {
    std::string log = Log();
    int n = 0;
    for (size_t pos = log.find(marker); pos != std::string::npos; pos = log.find(marker, pos + 1)) ++n;
    return n;
  };
  const int before = reads();
  kill(pid_, SIGHUP);
  ++hups_;
  if (!WaitFor([&] { return reads() > before; }, std::chrono::seconds(5)))
    return absl::DeadlineExceededError("dnsmasq did not re-read its hosts file within 5 s");
  return absl::OkStatus();
}

std::string DnsmasqServer::Log() const { return read_file(log_path_); }

int DnsmasqServer::CountQueries(std::string_view type, std::string_view name) const {
  const std::string needle = absl::StrCat("query[", std::string(type), "] ", std::string(name), " from");
  std::string log = Log();
  int n = 0;
  for (size_t pos = log.find(needle); pos != std::string::npos; pos = log.find(needle, pos + 1)) ++n;
  return n;
}

}  // namespace ringside::testing
