// What ringside-grpc-echo-app has seen, for the Stats method: shared by every handler thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <mutex>
#include <string>

#include "dapr/proto/common/v1/common.pb.h"
#include "ringside/test/v1/echo.pb.h"

namespace ringside::grpc_echo_app {

class AppStats {
 public:
  // Counts a call and remembers its full method name (gRPC's sync API does not tell the
  // handler), metadata and deadline: the "last call".
  void RecordCall(const grpc::ServerContext& context, const char* method);
  // Remembers the parts of an OnInvoke request a test checks (not the data bytes).
  void RecordInvoke(const dapr::proto::common::v1::InvokeRequest& request);
  // Counts a call that ended because the client cancelled it or its deadline passed.
  void RecordCancel();
  // A copy of everything recorded so far.
  ringside::test::v1::StatsResponse Snapshot() const;

 private:
  mutable std::mutex mu_;                   // handlers run on many threads (this is the app)
  ringside::test::v1::StatsResponse stats_;  // guarded by mu_
};

// Copies a call's metadata, lower-case keys and raw values, in the order received.
void CopyMetadata(const grpc::ServerContext& context,
                  google::protobuf::RepeatedPtrField<ringside::test::v1::MetadataEntry>* out);

}  // namespace ringside::grpc_echo_app
