// An InstanceSink that records what a resolver reported, for tests (thread-safe).
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "controlplane/resolvers/resolver.h"

namespace ringside::testing {

class RecordingSink final : public resolvers::InstanceSink {
 public:
  // One publish_app call.
  struct Published {
    std::string app_id;                          // app id reported
    std::string ns;                              // namespace key reported
    std::vector<snapshot::Instance> instances;   // what was published (empty = none found)
  };

  void publish_all(std::vector<snapshot::Instance> instances) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++publish_all_calls_;
    (void)instances;
  }
  void publish_app(std::string app_id, std::string ns, std::vector<snapshot::Instance> instances) override {
    std::lock_guard<std::mutex> lock(mu_);
    apps_.push_back({std::move(app_id), std::move(ns), std::move(instances)});
  }
  void report_status(const absl::Status& status) override {
    std::lock_guard<std::mutex> lock(mu_);
    statuses_.push_back(status);
  }

  std::vector<Published> apps() {
    std::lock_guard<std::mutex> lock(mu_);
    return apps_;
  }
  size_t app_count() {
    std::lock_guard<std::mutex> lock(mu_);
    return apps_.size();
  }
  std::vector<absl::Status> statuses() {
    std::lock_guard<std::mutex> lock(mu_);
    return statuses_;
  }
  int publish_all_calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return publish_all_calls_;
  }

 private:
  std::mutex mu_;                       // guards everything below
  std::vector<Published> apps_;         // publish_app calls in order
  std::vector<absl::Status> statuses_;  // report_status calls in order
  int publish_all_calls_ = 0;           // publish_all calls
};

// "ip:port" texts of published instances, in order.
inline std::vector<std::string> addresses_of(const std::vector<snapshot::Instance>& v) {
  std::vector<std::string> out;
  for (const snapshot::Instance& i : v) out.push_back(i.address_text);
  return out;
}

}  // namespace ringside::testing
