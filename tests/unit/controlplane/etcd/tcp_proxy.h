// A TCP relay on 127.0.0.1 in front of a test server, which a test can cut (every connection
// closed, new ones refused) and restore: "the client lost etcd" while etcd itself keeps running,
// so a test can change etcd during the client's disconnection deterministically.
#pragma once

#include <cstdint>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace ringside::testing {

class TcpProxy {
 public:
  explicit TcpProxy(uint16_t target_port);  // listens on a free port at once
  ~TcpProxy();

  uint16_t port() const { return port_; }
  void cut();      // closes every relayed connection and the listener
  void restore();  // listens again on the same port

 private:
  void run();
  void listen_locked();
  void close_all_locked();
  void wake();

  uint16_t target_port_;                     // where connections are relayed
  uint16_t port_ = 0;                        // our listening port
  std::mutex mu_;                            // guards the fds below
  int listener_ = -1;                        // -1 while cut
  std::vector<std::pair<int, int>> pairs_;   // (client side, server side)
  int wake_[2] = {-1, -1};                   // self-pipe: the loop re-reads its fd set
  bool stopping_ = false;                    // destructor ran
  std::thread thread_;                       // the relay loop
};

}  // namespace ringside::testing
