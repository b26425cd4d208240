// The static resolver: instances listed in the Configuration (`configuration.apps`) and/or in
// a YAML file (`configuration.file`) that is re-read whenever its mtime, size or inode change.
// Namespace-aware. Registers nothing (the file is the registry).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <ctime>
#include <vector>

#include "controlplane/config/configuration.h"
#include "controlplane/resolvers/resolver.h"

namespace ringside::resolvers {

class StaticResolver final : public Resolver {
 public:
  explicit StaticResolver(config::StaticOptions options);

  absl::Status start(const SelfRegistration& self, InstanceSink* sink = nullptr) override;  // validates inline apps, reads the file
  absl::Status heartbeat() override { return absl::OkStatus(); }
  // Inline instances plus the file's; on a broken file edit, returns the error (the control
  // plane then keeps its last table) and retries on the next change.
  absl::StatusOr<std::vector<snapshot::Instance>> list() override;
  void stop() override {}
  std::chrono::milliseconds heartbeat_interval() const override { return std::chrono::minutes(1); }
  bool namespace_aware() const override { return true; }

 private:
  // Identity of the file version last read.
  struct FileStamp {
    timespec mtime{};  // st_mtim
    off_t size = -1;   // st_size
    ino_t inode = 0;   // st_ino (editors that write a new file and rename it)
    bool operator==(const FileStamp& o) const {
      return mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec && size == o.size && inode == o.inode;
    }
  };
  absl::Status reload_file_if_changed();

  config::StaticOptions options_;              // from the Configuration
  std::vector<snapshot::Instance> inline_;     // from configuration.apps
  std::vector<snapshot::Instance> from_file_;  // last good parse of the file
  FileStamp stamp_;                            // version of the file from_file_ came from
  bool file_loaded_ = false;                   // stamp_ is meaningful
};

// Converts parsed entries into instances; errors are prefixed with `origin` ("file.yaml: apps").
absl::StatusOr<std::vector<snapshot::Instance>> instances_from_static_apps(const std::vector<config::StaticApp>& apps,
                                                                           std::string_view origin);

}  // namespace ringside::resolvers
