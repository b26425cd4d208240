#pragma once
// Constant invocation load for the fault-injection tests: several client threads each send
// POST /v1.0/invoke/<app>/method/echo with a unique body ("<thread>/<seq>") on a fresh
// connection, and record exactly one outcome per call (an HTTP answer, or the transport error
// when no answer came). The counting app (counting_app.h) sees the same ids, so the test can
// compare both ends: every call answered once, which ones failed, which were delivered twice.
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/e2e/harness.h"

namespace ringside::e2e::fault {

// What one call got back.
struct Outcome {
  bool answered = false;  // an HTTP response arrived (else `kind` is the transport error)
  int status = 0;         // its status code
  std::string kind;       // "ok", or "<status> <errorCode>" / "no answer: ..." for failures
  Clock::time_point at;   // when the answer (or the error) came
  std::string detail;     // a failure's answer body (its Dapr error message)
};

// Totals over a run, printable as one line.
struct LoadFigures {
  int sent = 0;                           // calls started
  int answered = 0;                       // calls that got an HTTP response
  int succeeded = 0;                      // 200 with the body echoed
  std::map<std::string, int> failed;      // failures by kind (status + errorCode, or no answer)
  std::string Line() const {
    std::string kinds;
    for (const auto& [kind, n] : failed) absl::StrAppend(&kinds, kinds.empty() ? "" : ", ", kind, "=", n);
    return absl::StrCat("sent=", sent, " answered=", answered, " succeeded=", succeeded, " failed={", kinds, "}");
  }
};

class InvocationLoad {
 public:
  // Starts `threads` client threads against caller HTTP port `port`, invoking `app_id`; each
  // sends at most `max_per_thread` calls (a bound: the test stops them much earlier).
  InvocationLoad(uint16_t port, std::string app_id, int threads, int max_per_thread = 200000)
      : port_(port), app_id_(std::move(app_id)) {
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, t, max_per_thread] {
        for (int i = 0; i < max_per_thread && !stop_.load(); ++i) Call(absl::StrCat(t, "/", i));
      });
    }
  }
  ~InvocationLoad() { Stop(); }
  InvocationLoad(const InvocationLoad&) = delete;
  InvocationLoad& operator=(const InvocationLoad&) = delete;

  void Stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  int sent() {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(outcomes_.size());
  }
  // Call only after Stop().
  const std::map<std::string, Outcome>& outcomes() const { return outcomes_; }
  LoadFigures Figures() const {
    LoadFigures f;
    for (const auto& [id, o] : outcomes_) {
      ++f.sent;
      if (o.answered) ++f.answered;
      if (o.kind == "ok") {
        ++f.succeeded;
      } else {
        ++f.failed[o.kind];
      }
    }
    return f;
  }

 private:
  void Call(const std::string& id) {
    // The client waits 20 s: longer than any bound the sidecar has, so a hang shows as a
    // "no answer" failure rather than a lost call.
    auto r = Invoke(port_, "POST", app_id_, "echo", id, {}, std::chrono::seconds(20));
    Outcome o;
    if (!r.ok()) {
      o.kind = absl::StrCat("no answer: ", r.status().message().substr(0, 60));
    } else {
      o.answered = true;
      o.status = r->status();
      if (o.status == 200 && r->body == id) {
        o.kind = "ok";
      } else if (o.status == 200) {
        o.kind = "200 with a wrong body";
      } else {
        o.kind = absl::StrCat(o.status, " ", JsonStringField(r->body, "errorCode"));
        o.detail = r->body.substr(0, 300);
      }
      // Back off a little after an error so a failing sidecar is not spun on.
      if (o.status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    o.at = Clock::now();
    std::lock_guard<std::mutex> lock(mu_);
    outcomes_[id] = std::move(o);
  }

  uint16_t port_;                           // caller sidecar's HTTP port
  std::string app_id_;                      // invoked app id
  std::atomic<bool> stop_{false};           // set by Stop()
  std::mutex mu_;                           // guards outcomes_ while threads run
  std::map<std::string, Outcome> outcomes_; // call id -> what it got
  std::vector<std::thread> threads_;        // the client threads
};

}  // namespace ringside::e2e::fault
