// MetricsServer: a small blocking HTTP/1.1 server on its own thread for Prometheus scrapes.
// GET /metrics -> 200 text exposition from the provider; anything else -> 404 (405 for other
// methods on /metrics). One request per connection (Connection: close); every read is bounded
// by a timeout so a slow client cannot stall the thread for long.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "absl/status/status.h"

namespace ringside::metrics {

class MetricsServer {
 public:
  // Returns the Prometheus text exposition; called on the metrics thread for every scrape.
  using Provider = std::function<std::string()>;

  explicit MetricsServer(Provider provider, std::chrono::milliseconds read_timeout = std::chrono::seconds(5));
  ~MetricsServer();  // stop()

  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Also answers GET /healthz: 200 "ok" while `healthy` returns true, else 503. Call before
  // start(); without it /healthz is a 404 like any other path.
  void serve_healthz(std::function<bool()> healthy) { health_ = std::move(healthy); }

  // Binds address:port (IPv4 or IPv6 literal, or "localhost"; port 0 = any free port) and
  // starts the thread. Bind failures name the port: "metrics port 9090 is already in use".
  absl::Status start(const std::string& address, uint16_t port);

  // The bound port (useful with port 0). 0 before start().
  uint16_t port() const { return port_; }

  // Stops accepting, joins the thread. Idempotent.
  void stop();

 private:
  void run();
  void serve(int fd);

  Provider provider_;                         // produces the exposition text
  std::function<bool()> health_;              // /healthz answer; empty = no /healthz
  std::chrono::milliseconds read_timeout_;    // bound on reading one request
  int listen_fd_ = -1;                        // listening socket
  int wake_fd_ = -1;                          // eventfd that stop() signals
  uint16_t port_ = 0;                         // bound port
  std::atomic<bool> stopping_{false};         // set by stop()
  std::thread thread_;                        // the metrics thread
};

}  // namespace ringside::metrics
