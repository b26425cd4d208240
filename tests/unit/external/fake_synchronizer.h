// FakeSynchronizer: an in-test ringside.sync.v1.Synchronizer (real gRPC server on 127.0.0.1)
// whose Subscribe streams the test drives update by update: send() writes to the open stream,
// end_stream() finishes it with a status, a wrong or missing token is UNAUTHENTICATED.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ringside/sync/v1/sync.grpc.pb.h"

namespace ringside::testing {

class FakeSynchronizer final : public ringside::sync::v1::Synchronizer::Service {
 public:
  explicit FakeSynchronizer(std::string token = "") : token_(std::move(token)) {}
  ~FakeSynchronizer() override { shutdown(); }

  // Listens on 127.0.0.1:port (0 = any free port); false when it cannot.
  bool start(int port = 0) {
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(), &port_);
    b.RegisterService(this);
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = false;
    }
    server_ = b.BuildAndStart();
    return server_ != nullptr && port_ > 0;
  }
  // Ends every stream (as a killed synchronizer would) and stops listening.
  void shutdown() {
    if (!server_) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      actions_.clear();
    }
    cv_.notify_all();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    server_->Wait();
    server_.reset();
  }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // Queues an update for the open stream (or the next one).
  void send(ringside::sync::v1::TableUpdate u) { push(Action{std::move(u), std::nullopt}); }
  // Finishes the open stream with `status`.
  void end_stream(grpc::Status status) { push(Action{std::nullopt, std::move(status)}); }

  // Waits up to 10 s until `n` streams were accepted (token ok) in total.
  bool wait_streams(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return accepted_ >= n; });
  }
  // Waits up to 10 s until no stream is open.
  bool wait_no_stream() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return open_ == 0; });
  }
  int accepted() {
    std::lock_guard<std::mutex> lock(mu_);
    return accepted_;
  }
  int refused() {
    std::lock_guard<std::mutex> lock(mu_);
    return refused_;
  }
  // The accepted streams' requests and their authorization metadata.
  std::vector<ringside::sync::v1::SubscribeRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::vector<std::string> authorizations() {
    std::lock_guard<std::mutex> lock(mu_);
    return authorizations_;
  }

  grpc::Status Subscribe(grpc::ServerContext* ctx, const ringside::sync::v1::SubscribeRequest* request,
                         grpc::ServerWriter<ringside::sync::v1::TableUpdate>* writer) override {
    std::string auth;
    auto it = ctx->client_metadata().find("authorization");
    if (it != ctx->client_metadata().end()) auth.assign(it->second.data(), it->second.size());
    std::unique_lock<std::mutex> lock(mu_);
    if (!token_.empty() && auth != "Bearer " + token_) {
      ++refused_;
      cv_.notify_all();
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "wrong token");
    }
    ++accepted_;
    ++open_;
    requests_.push_back(*request);
    authorizations_.push_back(auth);
    cv_.notify_all();
    grpc::Status result = grpc::Status::OK;
    while (true) {
      cv_.wait_for(lock, std::chrono::milliseconds(20), [&] { return stopping_ || !actions_.empty(); });
      if (stopping_) {
        result = grpc::Status(grpc::StatusCode::UNAVAILABLE, "synchronizer shutting down");
        break;
      }
      if (ctx->IsCancelled()) {
        result = grpc::Status::CANCELLED;
        break;
      }
      if (actions_.empty()) continue;
      Action a = std::move(actions_.front());
      actions_.pop_front();
      if (a.end) {
        result = *a.end;
        break;
      }
      lock.unlock();
      const bool ok = writer->Write(*a.update);
      lock.lock();
      if (!ok) {
        result = grpc::Status::CANCELLED;
        break;
      }
    }
    --open_;
    cv_.notify_all();
    return result;
  }

 private:
  struct Action {
    std::optional<ringside::sync::v1::TableUpdate> update;  // write this
    std::optional<grpc::Status> end;                        // or finish the stream with this
  };
  void push(Action a) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      actions_.push_back(std::move(a));
    }
    cv_.notify_all();
  }

  std::string token_;                                             // required token ("" = none)
  std::unique_ptr<grpc::Server> server_;                          // the gRPC server
  int port_ = 0;                                                  // bound port
  std::mutex mu_;                                                 // guards everything below
  std::condition_variable cv_;                                    // actions and stream changes
  std::deque<Action> actions_;                                    // what the open stream does next
  std::vector<ringside::sync::v1::SubscribeRequest> requests_;   // accepted streams' requests
  std::vector<std::string> authorizations_;                       // their authorization metadata
  int accepted_ = 0;                                              // streams accepted
  int refused_ = 0;                                               // streams refused (token)
  int open_ = 0;                                                  // streams open now
  bool stopping_ = false;                                         // shutdown() in progress
};

}  // namespace ringside::testing
