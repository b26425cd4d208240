#pragma once
// CredentialsWatcher: certificate rotation for mTLS. A thread of its own (never a shard) looks
// at the certificate, key and trust-anchor files every `interval`; when any changed (mtime,
// size or inode: an atomic rename counts), it loads them again and, if they load and check
// (tls::TlsContext::load), makes them the store's current credentials. New connections use them;
// connections already up keep theirs, so a rotation under load fails no call.
//
// A load that fails (a rotation caught half-written: the new certificate with the old key) keeps
// the current credentials and is retried on the next look, with one log line per distinct error.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "dataplane/tls/credential_store.h"

namespace ringside::tls {

class CredentialsWatcher {
 public:
  using Log = std::function<void(const std::string&)>;
  CredentialsWatcher(CredentialFiles files, CredentialStore* store, std::chrono::milliseconds interval, Log log);
  ~CredentialsWatcher();  // stops the thread
  CredentialsWatcher(const CredentialsWatcher&) = delete;
  CredentialsWatcher& operator=(const CredentialsWatcher&) = delete;

  void start();
  void stop();

  // For metrics: rotations applied, and failed loads.
  uint64_t reloads() const { return reloads_.load(std::memory_order_relaxed); }
  uint64_t reload_failures() const { return failures_.load(std::memory_order_relaxed); }
  // notAfter (unix seconds) of the certificate in use.
  int64_t not_after_unix() const { return not_after_.load(std::memory_order_relaxed); }

 private:
  // A fingerprint of the three files' metadata; changes when any file is replaced or rewritten.
  std::string fingerprint() const;
  void run();

  CredentialFiles files_;
  CredentialStore* store_;
  std::chrono::milliseconds interval_;
  Log log_;
  std::string seen_;                 // fingerprint of what is loaded (or last tried)
  std::string last_error_;           // last failure logged (one line per distinct error)
  std::atomic<uint64_t> reloads_{0};
  std::atomic<uint64_t> failures_{0};
  std::atomic<int64_t> not_after_{0};
  std::mutex mu_;                    // guards stop_ for the condition variable
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace ringside::tls
