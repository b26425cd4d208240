// A real etcd (Debian's etcd-server, /usr/bin/etcd) for tests: one member on 127.0.0.1 with free
// client and peer ports and a temporary data directory. Stop/Restart keep the ports and the data,
// as an operator restarting etcd would. Only the process this helper started is ever signalled.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace ringside::testing {

// A free test port (tests/support/free_port/free_port.h).
uint16_t pick_free_port();

class EtcdServer {
 public:
  EtcdServer();   // picks ports and creates the data directory; does not start
  ~EtcdServer();  // SIGKILLs etcd if running, removes the data directory

  // Starts etcd and waits (bounded) until it answers a Range. Error (with etcd's log tail)
  // when it does not come up.
  absl::Status Start();
  // SIGKILL (a crash) and reap.
  void Kill();
  bool running() const { return pid_ > 0; }

  std::string endpoint() const;  // "127.0.0.1:<client port>"
  uint16_t client_port() const { return client_port_; }
  // Runs `etcdctl --endpoints=<endpoint> <args>` and returns its stdout (for tests that read
  // or write etcd the way an operator would).
  std::string Etcdctl(const std::string& args) const;
  std::string LogTail() const;

 private:
  std::string dir_;            // temp dir: data/ and etcd.log
  uint16_t client_port_ = 0;   // --listen-client-urls port
  uint16_t peer_port_ = 0;     // --listen-peer-urls port
  pid_t pid_ = -1;             // running etcd, -1 = none
};

}  // namespace ringside::testing
