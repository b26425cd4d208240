#include "controlplane/resolvers/etcd/etcd_resolver.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controlplane/resolvers/etcd/instance_record.h"

namespace ringside::resolvers::etcd {

EtcdResolver::EtcdResolver(EtcdOptions options) : options_(std::move(options)) {}

absl::Status EtcdResolver::start(const SelfRegistration& self, InstanceSink* sink) {
  client_ = std::make_unique<EtcdClient>(options_.endpoints, options_.dial_timeout, options_.max_backoff);
  auto startup_error = [&](const char* what, const absl::Status& s) {
    return absl::UnavailableError(absl::StrCat("spec.nameResolution.configuration.endpoints: cannot ", what,
                                               " etcd at ", absl::StrJoin(options_.endpoints, ","), ": ", s.message()));
  };
  // An empty app id = watch only (ringside-sync reads the registry without joining it).
  if (options_.self_register && !self.app_id.empty()) {
    InstanceRecord record;
    record.app_id = self.app_id;
    record.app_namespace = self.app_namespace.empty() ? "default" : self.app_namespace;
    record.address = self.address;
    record.cluster = self.cluster;
    record.host_name = self.host_name;
    record.http_port = self.http_port;
    record.app_port = self.app_port;
    keeper_ = std::make_unique<LeaseKeeper>(client_.get(), registration_key(options_.prefix, record),
                                            encode_record(record), options_.lease_ttl,
                                            effective_keep_alive_interval(options_), options_.max_backoff);
    if (absl::Status s = keeper_->register_now(); !s.ok()) return startup_error("register with", s);
  }
  std::function<void(const std::string&)> on_delete;
  if (keeper_) {
    on_delete = [keeper = keeper_.get()](const std::string& key) {
      if (key == keeper->key()) keeper->key_deleted();
    };
  }
  watcher_ = std::make_unique<InstanceWatcher>(client_.get(), options_.prefix, sink, options_.max_backoff,
                                               std::move(on_delete));
  if (absl::Status s = watcher_->list(); !s.ok()) {
    if (keeper_) keeper_->stop(true);
    return startup_error("list registrations in", s);
  }
  if (keeper_) keeper_->start();
  watcher_->start();
  return absl::OkStatus();
}

void EtcdResolver::lookup(std::string_view app_id, std::string_view ns) {
  if (watcher_) watcher_->lookup(app_id, ns);
}

void EtcdResolver::stop() {
  if (watcher_) watcher_->stop();
  if (keeper_) keeper_->stop(true);
}

void EtcdResolver::abandon_for_testing() {
  if (watcher_) watcher_->stop();
  if (keeper_) keeper_->stop(false);
}

}  // namespace ringside::resolvers::etcd
