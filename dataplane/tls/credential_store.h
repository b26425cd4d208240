#pragma once
// CredentialStore: the TLS credentials new connections use, shared by every shard, replaced by
// the control plane when the files change (certificate rotation). ShardTls: one shard's view.
//
// Why a generation number and a mutex rather than an atomic pointer: a shard must hold the
// context while it makes an SSL from it, and freeing a replaced context under it would be a
// use-after-free. Each shard keeps its own reference (a shared_ptr it copies under the mutex)
// and re-reads only when the generation moved: one uncontended lock per shard per rotation,
// none per connection or request. Connections made from an old context keep it alive through
// OpenSSL's own count on the SSL_CTX, so a rotation drops no connection.
#include <openssl/ssl.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "dataplane/tls/tls_context.h"

namespace ringside::tls {

class CredentialStore {
 public:
  explicit CredentialStore(std::shared_ptr<const TlsContext> initial) : current_(std::move(initial)) {}

  // Control plane: connections made from now on use `next`.
  void replace(std::shared_ptr<const TlsContext> next) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      current_ = std::move(next);
    }
    generation_.fetch_add(1, std::memory_order_release);
  }
  std::shared_ptr<const TlsContext> current() const {
    std::lock_guard<std::mutex> lock(mu_);
    return current_;
  }
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mu_;                    // guards current_ (taken per rotation, see above)
  std::shared_ptr<const TlsContext> current_;
  std::atomic<uint64_t> generation_{1};      // bumped after every replace()
};

class ShardTls {
 public:
  explicit ShardTls(const CredentialStore* store) : store_(store) {}
  // The SSL_CTX for a new connection (valid until this shard's next call).
  SSL_CTX* ctx() {
    uint64_t g = store_->generation();
    if (g != generation_) {
      context_ = store_->current();
      generation_ = g;
    }
    return context_->ssl_ctx();
  }
  // Our own identity as of the last ctx().
  const TlsContext* context() const { return context_.get(); }

 private:
  const CredentialStore* store_;
  uint64_t generation_ = 0;                   // of context_ (0: not read yet)
  std::shared_ptr<const TlsContext> context_;
};

}  // namespace ringside::tls
