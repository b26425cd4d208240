#pragma once
// The gRPC app's health probe, as daprd's gRPC app channel does it: a unary
// /dapr.proto.runtime.v1.AppCallbackHealthCheck/HealthCheck with the probe timeout as its
// deadline; OK is a success and every other status — UNIMPLEMENTED included (an app that does
// not implement the service is never healthy, as in daprd) — a failure. Blocking; runs on the
// prober's thread, never on a shard.
#include <chrono>
#include <memory>
#include <string>

namespace ringside::apphealth {

class GrpcProbe {
 public:
  // target = "127.0.0.1:50051"; app_api_token ("" = none) is sent as dapr-api-token metadata.
  GrpcProbe(const std::string& target, std::string app_api_token);
  ~GrpcProbe();
  GrpcProbe(const GrpcProbe&) = delete;
  GrpcProbe& operator=(const GrpcProbe&) = delete;

  // The gRPC status code of one probe (0 = OK = healthy).
  int probe(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;  // channel and stub (keeps gRPC out of this header)
};

}  // namespace ringside::apphealth
