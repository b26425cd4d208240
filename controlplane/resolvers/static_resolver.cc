#include "controlplane/resolvers/static_resolver.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace ringside::resolvers {

absl::StatusOr<std::vector<snapshot::Instance>> instances_from_static_apps(const std::vector<config::StaticApp>& apps,
                                                                           std::string_view origin) {
  std::vector<snapshot::Instance> out;
  out.reserve(apps.size());
  for (size_t i = 0; i < apps.size(); ++i) {
    const config::StaticApp& a = apps[i];
    absl::StatusOr<snapshot::Instance> inst = snapshot::make_instance(a.app_id, a.app_namespace, a.address, a.cluster, a.weight);
    if (!inst.ok())
      return absl::InvalidArgumentError(absl::StrCat(absl::string_view(origin.data(), origin.size()), "[", i,
                                                     "].address: ", inst.status().message()));
    out.push_back(*std::move(inst));
  }
  return out;
}

StaticResolver::StaticResolver(config::StaticOptions options) : options_(std::move(options)) {}

absl::Status StaticResolver::start(const SelfRegistration&, InstanceSink*) {
  absl::StatusOr<std::vector<snapshot::Instance>> inline_apps =
      instances_from_static_apps(options_.apps, "spec.nameResolution.configuration.apps");
  if (!inline_apps.ok()) return inline_apps.status();
  inline_ = *std::move(inline_apps);
  if (options_.file.empty()) return absl::OkStatus();
  return reload_file_if_changed();
}

absl::Status StaticResolver::reload_file_if_changed() {
  struct stat st;
  if (stat(options_.file.c_str(), &st) != 0)
    return absl::NotFoundError(absl::StrCat("static resolver: cannot stat ", options_.file, ": ", std::strerror(errno)));
  FileStamp now{st.st_mtim, st.st_size, st.st_ino};
  if (file_loaded_ && now == stamp_) return absl::OkStatus();

  std::ifstream in(options_.file);
  if (!in) return absl::NotFoundError(absl::StrCat("static resolver: cannot read ", options_.file));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<std::vector<config::StaticApp>> apps = config::parse_static_apps(text.str());
  if (!apps.ok()) {
    // Remember this version as seen so a broken edit is reported once, not every tick.
    stamp_ = now;
    file_loaded_ = true;
    return absl::InvalidArgumentError(absl::StrCat(options_.file, ": ", apps.status().message()));
  }
  absl::StatusOr<std::vector<snapshot::Instance>> instances =
      instances_from_static_apps(*apps, absl::StrCat(options_.file, ": apps"));
  stamp_ = now;
  file_loaded_ = true;
  if (!instances.ok()) return instances.status();
  from_file_ = *std::move(instances);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<snapshot::Instance>> StaticResolver::list() {
  if (!options_.file.empty()) {
    if (absl::Status s = reload_file_if_changed(); !s.ok()) return s;
  }
  std::vector<snapshot::Instance> out = inline_;
  out.insert(out.end(), from_file_.begin(), from_file_.end());
  return out;
}

}  // namespace ringside::resolvers
