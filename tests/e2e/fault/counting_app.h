#pragma once
// CountingApp: the callee's HTTP app for the fault-injection tests. It echoes each body and
// counts deliveries per body (the call id), so a call delivered twice shows up; on request it
// resets the connection after writing only part of a response (SO_LINGER 0 then close sends a
// TCP RST), recording which call ids it did that to.
#include <sys/socket.h>

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/e2e/threaded_http_app.h"

namespace ringside::e2e::fault {

// Deliveries seen by one or more apps (several instances of an app id share one log).
struct DeliveryLog {
  std::mutex mu;                          // guards the fields below
  std::map<std::string, int> deliveries;  // call id -> times the app received it
  std::set<std::string> reset;            // call ids whose response was cut by a reset
  int Duplicates() {
    std::lock_guard<std::mutex> lock(mu);
    int n = 0;
    for (const auto& [id, count] : deliveries) n += count > 1 ? 1 : 0;
    return n;
  }
};

class CountingApp : public ThreadedHttpApp {
 public:
  // reset_when(n): whether to reset the n-th delivery (1-based, counted by this app).
  explicit CountingApp(DeliveryLog* log, std::function<bool(int)> reset_when = {})
      : log_(log), reset_when_(std::move(reset_when)) {}
  ~CountingApp() override { Stop(); }
  int delivered() {
    std::lock_guard<std::mutex> lock(mu_);
    return delivered_;
  }
  void set_resetting(bool on) {
    std::lock_guard<std::mutex> lock(mu_);
    resetting_ = on;
  }

 protected:
  bool Handle(HttpMessage& request, BlockingHttpConnection& conn) override {
    bool reset = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++delivered_;
      reset = resetting_ && reset_when_ && reset_when_(delivered_);
    }
    {
      std::lock_guard<std::mutex> lock(log_->mu);
      ++log_->deliveries[request.body];
      if (reset) log_->reset.insert(request.body);
    }
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    if (reset) {
      // Promise more body than is sent, send part of it, then RST: the sidecar has a response
      // head and some body, and then a reset connection.
      (void)conn.SendAll(absl::StrCat("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ",
                                      request.body.size() + 100, "\r\n\r\n", request.body),
                         deadline);
      linger no_linger{.l_onoff = 1, .l_linger = 0};
      ::setsockopt(conn.fd(), SOL_SOCKET, SO_LINGER, &no_linger, sizeof no_linger);
      return false;  // the connection's owner closes the fd: with linger 0 that is an RST
    }
    return conn.SendAll(absl::StrCat("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ",
                                     request.body.size(), "\r\n\r\n", request.body),
                        deadline).ok();
  }

 private:
  DeliveryLog* log_;                    // shared delivery counts
  std::function<bool(int)> reset_when_; // which deliveries to cut with a reset
  std::mutex mu_;                       // guards the two fields below
  int delivered_ = 0;                   // requests this app received
  bool resetting_ = true;               // reset_when_ applies (tests switch it off to check recovery)
};

}  // namespace ringside::e2e::fault
