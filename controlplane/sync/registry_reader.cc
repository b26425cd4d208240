#include "controlplane/sync/registry_reader.h"

#include "absl/strings/str_cat.h"
#include "controlplane/sync/sync_log.h"

namespace ringside::sync {

v1::Instance to_wire(const snapshot::Instance& i) {
  v1::Instance w;
  w.set_app_id(i.app_id);
  w.set_namespace_(i.app_namespace);
  w.set_address(i.address_text);
  w.set_weight(i.weight);
  w.set_unhealthy(!i.healthy);
  return w;
}

RegistryReader::RegistryReader(std::unique_ptr<resolvers::Resolver> resolver, SyncState* state,
                               std::chrono::milliseconds refresh)
    : resolver_(std::move(resolver)), state_(state), refresh_(refresh) {}

RegistryReader::~RegistryReader() { stop(); }

absl::Status RegistryReader::start() {
  resolvers::SelfRegistration watch_only;  // empty app id: register nothing
  if (absl::Status s = resolver_->start(watch_only, this); !s.ok()) return s;
  started_ = true;
  if (resolver_->lists()) {
    absl::StatusOr<std::vector<snapshot::Instance>> first = resolver_->list();
    if (!first.ok()) return first.status();
    publish_all(*std::move(first));
    poller_ = std::thread([this] { poll_loop(); });
  }
  return absl::OkStatus();
}

void RegistryReader::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (poller_.joinable()) poller_.join();
  if (started_) resolver_->stop();
  started_ = false;
}

void RegistryReader::poll_loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (wake_.wait_for(lock, refresh_, [&] { return stopping_; })) return;
    }
    read_once();
  }
}

void RegistryReader::read_once() {
  absl::StatusOr<std::vector<snapshot::Instance>> all = resolver_->list();
  if (!all.ok()) {
    report_status(all.status());
    return;
  }
  if (absl::Status s = resolver_->heartbeat(); !s.ok()) report_status(s);
  publish_all(*std::move(all));
}

void RegistryReader::publish_all(std::vector<snapshot::Instance> instances) {
  std::vector<v1::Instance> wire;
  wire.reserve(instances.size());
  for (const snapshot::Instance& i : instances) wire.push_back(to_wire(i));
  state_->set_local(std::move(wire));
  std::lock_guard<std::mutex> lock(mu_);
  if (!last_error_.empty()) {
    log(LogLevel::kInfo, "registry readable again");
    last_error_.clear();
  }
}

void RegistryReader::publish_app(std::string, std::string, std::vector<snapshot::Instance>) {
  // Only answers to lookup(), which the synchronizer never asks: the watch's publish_all is
  // the whole view.
}

void RegistryReader::report_status(const absl::Status& status) {
  state_->set_registry_error(!status.ok());
  std::lock_guard<std::mutex> lock(mu_);
  if (status.ok()) {
    last_error_.clear();
    return;
  }
  std::string text(status.message());
  if (text == last_error_) return;
  last_error_ = text;
  log(LogLevel::kWarn, absl::StrCat("cannot read the registry (keeping the last table): ", text));
}

}  // namespace ringside::sync
