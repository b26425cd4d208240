#include "tests/unit/controlplane/etcd/etcd_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "controlplane/resolvers/etcd/etcd_client.h"
#include "tests/support/free_port/free_port.h"

namespace ringside::testing {

uint16_t pick_free_port() { return PickTestPort(); }

EtcdServer::EtcdServer() {
  std::string pattern = (std::filesystem::temp_directory_path() / "ringside-etcd-XXXXXX").string();
  dir_ = mkdtemp(pattern.data());
  client_port_ = pick_free_port();
  peer_port_ = pick_free_port();
  while (peer_port_ == client_port_) peer_port_ = pick_free_port();
}

EtcdServer::~EtcdServer() {
  Kill();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string EtcdServer::endpoint() const { return absl::StrCat("127.0.0.1:", client_port_); }

std::string EtcdServer::LogTail() const {
  std::ifstream in(dir_ + "/etcd.log");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  return all.size() > 3000 ? all.substr(all.size() - 3000) : all;
}

absl::Status EtcdServer::Start() {
  if (pid_ > 0) return absl::OkStatus();
  std::string client_url = absl::StrCat("http://127.0.0.1:", client_port_);
  std::string peer_url = absl::StrCat("http://127.0.0.1:", peer_port_);
  std::vector<std::string> args = {"/usr/bin/etcd",
                                   "--name=test",
                                   "--data-dir=" + dir_ + "/data",
                                   "--listen-client-urls=" + client_url,
                                   "--advertise-client-urls=" + client_url,
                                   "--listen-peer-urls=" + peer_url,
                                   "--initial-advertise-peer-urls=" + peer_url,
                                   "--initial-cluster=test=" + peer_url,
                                   "--logger=zap",
                                   "--log-level=warn"};
  std::string log = dir_ + "/etcd.log";
  pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  resolvers::etcd::EtcdClient client({endpoint()}, std::chrono::milliseconds(500), std::chrono::milliseconds(200));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError(absl::StrCat("etcd exited at start-up; log:\n", LogTail()));
    }
    if (client.range_prefix("/health-probe/").ok()) return absl::OkStatus();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::DeadlineExceededError(absl::StrCat("etcd did not answer within 20 s; log:\n", LogTail()));
}

void EtcdServer::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

std::string EtcdServer::Etcdctl(const std::string& args) const {
  std::string cmd = absl::StrCat("ETCDCTL_API=3 /usr/bin/etcdctl --endpoints=", endpoint(), " ", args, " 2>&1");
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  ::pclose(p);
  return out;
}

}  // namespace ringside::testing
