#include "controlplane/tls/credentials_watcher.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"

namespace ringside::tls {

CredentialsWatcher::CredentialsWatcher(CredentialFiles files, CredentialStore* store,
                                       std::chrono::milliseconds interval, Log log)
    : files_(std::move(files)), store_(store), interval_(interval), log_(std::move(log)) {
  seen_ = fingerprint();
  if (auto ctx = store_->current()) not_after_ = ctx->not_after_unix();
}

CredentialsWatcher::~CredentialsWatcher() { stop(); }

void CredentialsWatcher::start() { thread_ = std::thread([this] { run(); }); }

void CredentialsWatcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string CredentialsWatcher::fingerprint() const {
  std::string fp;
  for (const std::string* path : {&files_.cert_file, &files_.key_file, &files_.trust_anchors_file}) {
    struct stat st {};
    if (::stat(path->c_str(), &st) != 0) {
      absl::StrAppend(&fp, "missing;");
      continue;
    }
    absl::StrAppend(&fp, st.st_ino, ":", st.st_size, ":", st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec, ";");
  }
  return fp;
}

void CredentialsWatcher::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, interval_, [this] { return stop_; })) {
    std::string fp = fingerprint();
    if (fp == seen_) continue;
    auto loaded = TlsContext::load(files_);
    if (!loaded.ok()) {
      failures_.fetch_add(1, std::memory_order_relaxed);
      std::string err(loaded.status().message());
      if (err != last_error_) log_(absl::StrCat("mtls: keeping the current credentials: ", err));
      last_error_ = err;
      continue;  // seen_ unchanged: tried again next time (the rotation may be half-written)
    }
    seen_ = fp;
    last_error_.clear();
    not_after_ = (*loaded)->not_after_unix();
    log_(absl::StrCat("mtls: credentials reloaded (", (*loaded)->identity_text(), ")"));
    store_->replace(*std::move(loaded));
    reloads_.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace ringside::tls
