// ringside.test.v1.Echo: the four stream kinds, driven by the request (see echo.proto).
#pragma once

#include "examples/grpc_echo_app/app_stats.h"
#include "ringside/test/v1/echo.grpc.pb.h"

namespace ringside::grpc_echo_app {

class EchoService final : public ringside::test::v1::Echo::Service {
 public:
  explicit EchoService(AppStats* stats) : stats_(stats) {}

  grpc::Status Unary(grpc::ServerContext* context, const ringside::test::v1::EchoRequest* request,
                     ringside::test::v1::EchoResponse* response) override;
  grpc::Status ClientStream(grpc::ServerContext* context,
                            grpc::ServerReader<ringside::test::v1::EchoRequest>* reader,
                            ringside::test::v1::EchoResponse* response) override;
  grpc::Status ServerStream(grpc::ServerContext* context, const ringside::test::v1::EchoRequest* request,
                            grpc::ServerWriter<ringside::test::v1::EchoResponse>* writer) override;
  grpc::Status Bidi(grpc::ServerContext* context,
                    grpc::ServerReaderWriter<ringside::test::v1::EchoResponse,
                                             ringside::test::v1::EchoRequest>* stream) override;
  grpc::Status Stats(grpc::ServerContext* context, const ringside::test::v1::StatsRequest* request,
                     ringside::test::v1::StatsResponse* response) override;

 private:
  AppStats* stats_;  // shared with the AppCallback service; outlives the server
};

}  // namespace ringside::grpc_echo_app
