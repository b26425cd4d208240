// An InstanceSink that records what a resolver reported, for tests: every published view as
// sorted "app/namespace/address" strings, lookup answers, and statuses. Waits are bounded.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "controlplane/resolvers/resolver.h"

namespace ringside::testing {

using View = std::vector<std::string>;  // sorted "app/ns/address"

inline View describe(const std::vector<snapshot::Instance>& instances) {
  View v;
  for (const snapshot::Instance& i : instances) v.push_back(absl::StrCat(i.app_id, "/", i.app_namespace, "/", i.address_text));
  std::sort(v.begin(), v.end());
  return v;
}

class RecordingSink : public resolvers::InstanceSink {
 public:
  struct AppAnswer {
    std::string app_id;  // asked app id
    std::string ns;      // asked namespace
    View instances;      // the answer
  };

  void publish_all(std::vector<snapshot::Instance> instances) override {
    std::lock_guard<std::mutex> lock(mu_);
    views_.push_back(describe(instances));
    cv_.notify_all();
  }
  void publish_app(std::string app_id, std::string ns, std::vector<snapshot::Instance> instances) override {
    std::lock_guard<std::mutex> lock(mu_);
    answers_.push_back({std::move(app_id), std::move(ns), describe(instances)});
    cv_.notify_all();
  }
  void report_status(const absl::Status& status) override {
    std::lock_guard<std::mutex> lock(mu_);
    statuses_.push_back(status);
    cv_.notify_all();
  }

  // Waits (bounded) until `pred` holds over the recorded state; false on timeout.
  bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, pred);
  }
  // Waits for the latest view to equal `want`.
  bool wait_for_view(const View& want, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    return wait_until([&] { return !views_.empty() && views_.back() == want; }, timeout);
  }
  bool wait_for_error(std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    return wait_until([&] { return !statuses_.empty() && !statuses_.back().ok(); }, timeout);
  }

  // Accessors copy under the lock.
  std::vector<View> views() const {
    std::lock_guard<std::mutex> lock(mu_);
    return views_;
  }
  View last_view() const {
    std::lock_guard<std::mutex> lock(mu_);
    return views_.empty() ? View{} : views_.back();
  }
  std::vector<AppAnswer> answers() const {
    std::lock_guard<std::mutex> lock(mu_);
    return answers_;
  }
  std::vector<absl::Status> statuses() const {
    std::lock_guard<std::mutex> lock(mu_);
    return statuses_;
  }

  // Callers of wait_until read these inside their predicate (the lock is held there).
  const std::vector<View>& views_locked() const { return views_; }
  const std::vector<AppAnswer>& answers_locked() const { return answers_; }
  const std::vector<absl::Status>& statuses_locked() const { return statuses_; }

 private:
  mutable std::mutex mu_;            // guards everything below
  std::condition_variable cv_;       // signalled on every report
  std::vector<View> views_;          // every publish_all, in order
  std::vector<AppAnswer> answers_;   // every publish_app, in order
  std::vector<absl::Status> statuses_;  // every report_status, in order
};

}  // namespace ringside::testing
