// Interop with Debian's gRPC C++ (generic API, raw ByteBuffers): a real gRPC client against
// GrpcServerConnection, and GrpcClientConnection against a real gRPC server.
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "dataplane/grpc/client_connection.h"
#include "dataplane/grpc/server_connection.h"
#include "tests/unit/grpc/loopback_pump.h"
#include "tests/unit/grpc/pair_harness.h"

namespace ringside::grpc {
namespace {

using namespace std::chrono_literals;
using testing::find;

std::string to_string(const ::grpc::ByteBuffer& b) {
  std::vector<::grpc::Slice> slices;
  (void)b.Dump(&slices);
  std::string s;
  for (auto& sl : slices) s.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
  return s;
}

::grpc::ByteBuffer to_buffer(const std::string& s) {
  ::grpc::Slice slice(s);
  return ::grpc::ByteBuffer(&slice, 1);
}

std::string meta(const std::multimap<::grpc::string_ref, ::grpc::string_ref>& md,
                 const std::string& key) {
  auto it = md.find(key);
  return it == md.end() ? "<absent>" : std::string(it->second.data(), it->second.size());
}

// ---- (a) real gRPC C++ client → GrpcServerConnection ----

struct InteropServerHandler : ServerHandler {
  GrpcServerConnection* conn = nullptr;
  int64_t last_timeout_ns = -1;
  void on_unary_request(const UnaryRequest& req) override {
    last_timeout_ns = req.timeout_ns;
    std::string client_value = "<absent>";
    for (const Metadata& m : req.metadata) {
      if (m.key == "x-client") client_value = std::string(m.value);
    }
    if (req.path == "/test.Echo/Echo") {
      Metadata headers[] = {{"x-server-header", "sh"}, {"x-echo-client", client_value}};
      Metadata trailers[] = {{"x-server-trailer", "st"}};
      conn->respond(req.id, headers, req.message, 0, "", trailers);
    } else if (req.path == "/test.Echo/Fail") {
      Metadata trailers[] = {{"x-why", "because"}};
      conn->respond(req.id, {}, {}, 9, "not ready: 100% \xc3\xa9", trailers);
    } else {
      conn->respond(req.id, {}, {}, 12, "unknown method", {});
    }
  }
  void on_call_cancelled(CallId) override {}
};

struct ClientOutcome {
  ::grpc::Status status;
  std::string response;
  std::string server_header, echo_client, server_trailer, why;
};

ClientOutcome call_with_grpcpp(::grpc::GenericStub& stub, const std::string& method,
                               const std::string& body, std::chrono::milliseconds deadline) {
  ::grpc::ClientContext ctx;
  ctx.AddMetadata("x-client", "from-grpcpp");
  ctx.set_deadline(std::chrono::system_clock::now() + deadline);
  ::grpc::CompletionQueue cq;
  auto call = stub.PrepareUnaryCall(&ctx, method, to_buffer(body), &cq);
  call->StartCall();
  ::grpc::ByteBuffer resp;
  ClientOutcome out;
  call->Finish(&resp, &out.status, reinterpret_cast<void*>(1));
  void* tag;
  bool ok;
  cq.Next(&tag, &ok);
  out.response = out.status.ok() ? to_string(resp) : "";
  out.server_header = meta(ctx.GetServerInitialMetadata(), "x-server-header");
  out.echo_client = meta(ctx.GetServerInitialMetadata(), "x-echo-client");
  out.server_trailer = meta(ctx.GetServerTrailingMetadata(), "x-server-trailer");
  out.why = meta(ctx.GetServerTrailingMetadata(), "x-why");
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return out;
}

TEST(GrpcInterop, RealGrpcClientAgainstOurServer) {
  uint16_t port = 0;
  int lfd = testing::listen_loopback(&port);
  ASSERT_GE(lfd, 0);

  std::atomic<bool> client_done{false};
  ClientOutcome echo, fail, unknown, large;
  std::string big(1 << 20, 'z');
  std::thread client([&] {
    auto channel = ::grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                         ::grpc::InsecureChannelCredentials());
    ::grpc::GenericStub stub(channel);
    echo = call_with_grpcpp(stub, "/test.Echo/Echo", "hello", 5000ms);
    fail = call_with_grpcpp(stub, "/test.Echo/Fail", "x", 5000ms);
    unknown = call_with_grpcpp(stub, "/test.Other/Nope", "x", 5000ms);
    large = call_with_grpcpp(stub, "/test.Echo/Echo", big, 5000ms);
    client_done = true;
  });

  int fd = testing::accept_with_timeout(lfd, 10000);
  ASSERT_GE(fd, 0);
  mem::ShardPool pool;
  InteropServerHandler h;
  // As on ringside's internal port: our SETTINGS carry the shard-count extension, which a gRPC
  // client must ignore (RFC 9113 §6.5.2).
  http2::SessionSettings settings;
  settings.advertised_shards = 4;
  GrpcServerConnection server(&pool, &h, 4u << 20, settings);
  h.conn = &server;
  ASSERT_TRUE(server.start());
  EXPECT_TRUE(testing::pump_socket(fd, server, &pool, [&] { return client_done.load(); }, 20000));
  client.join();
  ::close(fd);
  ::close(lfd);

  EXPECT_TRUE(echo.status.ok()) << echo.status.error_message();
  EXPECT_EQ(echo.response, "hello");
  EXPECT_EQ(echo.server_header, "sh");
  EXPECT_EQ(echo.echo_client, "from-grpcpp");
  EXPECT_EQ(echo.server_trailer, "st");

  EXPECT_EQ(fail.status.error_code(), ::grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(fail.status.error_message(), "not ready: 100% \xc3\xa9");
  EXPECT_EQ(fail.why, "because");

  EXPECT_EQ(unknown.status.error_code(), ::grpc::StatusCode::UNIMPLEMENTED);

  EXPECT_TRUE(large.status.ok()) << large.status.error_message();
  EXPECT_TRUE(large.response == big);

  // Deadline propagation: the last call had a 5 s deadline.
  EXPECT_GT(h.last_timeout_ns, 3'000'000'000);
  EXPECT_LE(h.last_timeout_ns, 5'100'000'000);
}

// ---- (b) GrpcClientConnection → real gRPC C++ server ----

class RealGrpcServer {
 public:
  RealGrpcServer() {
    ::grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", ::grpc::InsecureServerCredentials(), &port_);
    b.RegisterAsyncGenericService(&service_);
    b.SetMaxReceiveMessageSize(8 << 20);
    b.SetMaxSendMessageSize(8 << 20);
    cq_ = b.AddCompletionQueue();
    server_ = b.BuildAndStart();
    thread_ = std::thread([this] { serve(); });
  }
  ~RealGrpcServer() {
    server_->Shutdown(std::chrono::system_clock::now() + 1s);
    cq_->Shutdown();
    thread_.join();
  }
  int port() const { return port_; }

 private:
  bool next() {
    void* tag;
    bool ok = false;
    return cq_->Next(&tag, &ok) && ok;
  }
  void serve() {
    for (;;) {
      ::grpc::GenericServerContext ctx;
      ::grpc::GenericServerAsyncReaderWriter stream(&ctx);
      service_.RequestCall(&ctx, &stream, cq_.get(), cq_.get(), reinterpret_cast<void*>(1));
      if (!next()) break;
      ::grpc::ByteBuffer req;
      stream.Read(&req, reinterpret_cast<void*>(2));
      if (!next()) break;
      std::string body = to_string(req);
      ctx.AddInitialMetadata("x-server-header", "sh");
      ctx.AddInitialMetadata("x-echo-client", meta(ctx.client_metadata(), "x-client"));
      ctx.AddTrailingMetadata("x-server-trailer", "st");
      if (ctx.method() == "/test.Echo/Echo") {
        stream.WriteAndFinish(to_buffer(body), ::grpc::WriteOptions(), ::grpc::Status::OK,
                              reinterpret_cast<void*>(3));
      } else if (ctx.method() == "/test.Echo/Deadline") {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            ctx.deadline() - std::chrono::system_clock::now());
        stream.WriteAndFinish(to_buffer(std::to_string(left.count())), ::grpc::WriteOptions(),
                              ::grpc::Status::OK, reinterpret_cast<void*>(3));
      } else {
        stream.Finish(::grpc::Status(::grpc::StatusCode::NOT_FOUND, "no such thing: 50% \xc3\xa9"),
                      reinterpret_cast<void*>(3));
      }
      if (!next()) break;
    }
    void* tag;
    bool ok;
    while (cq_->Next(&tag, &ok)) {
    }
  }

  ::grpc::AsyncGenericService service_;
  std::unique_ptr<::grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<::grpc::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

TEST(GrpcInterop, OurClientAgainstRealGrpcServer) {
  RealGrpcServer real;
  ASSERT_GT(real.port(), 0);
  int fd = testing::connect_loopback(static_cast<uint16_t>(real.port()));
  ASSERT_GE(fd, 0);
  mem::ShardPool pool;
  testing::TestClientHandler h;
  GrpcClientConnection client(&pool, &h, 4u << 20);
  ASSERT_TRUE(client.start());
  std::string authority = "127.0.0.1:" + std::to_string(real.port());
  Metadata md[] = {{"x-client", "from-ringside"}};
  std::string big(3 << 20, 'q');

  ASSERT_GT(client.start_unary("/test.Echo/Echo", authority, md, 0, "hello", (void*)1), 0);
  ASSERT_GT(client.start_unary("/test.Echo/Missing", authority, md, 0, "x", (void*)2), 0);
  ASSERT_GT(client.start_unary("/test.Echo/Deadline", authority, md, 3'000'000'000, "x",
                               (void*)3), 0);
  EXPECT_TRUE(testing::pump_socket(fd, client, &pool, [&] { return h.done.size() == 3; }));
  // Sequential server: the big one after the first three.
  ASSERT_GT(client.start_unary("/test.Echo/Echo", authority, md, 0, big, (void*)4), 0);
  EXPECT_TRUE(testing::pump_socket(fd, client, &pool, [&] { return h.done.size() == 4; }));
  ::close(fd);
  client.on_transport_closed();

  const auto* echo = h.find_user(1);
  ASSERT_NE(echo, nullptr);
  EXPECT_EQ(echo->grpc_status, 0) << echo->grpc_message;
  EXPECT_EQ(echo->message, "hello");
  EXPECT_EQ(find(echo->headers, "x-server-header"), "sh");
  EXPECT_EQ(find(echo->headers, "x-echo-client"), "from-ringside");
  EXPECT_EQ(find(echo->trailers, "x-server-trailer"), "st");

  const auto* missing = h.find_user(2);
  ASSERT_NE(missing, nullptr);
  EXPECT_EQ(missing->grpc_status, 5);
  EXPECT_EQ(missing->grpc_message, "no such thing: 50% \xc3\xa9");
  EXPECT_EQ(find(missing->trailers, "x-server-trailer"), "st");
  EXPECT_FALSE(missing->not_processed);

  const auto* deadline = h.find_user(3);
  ASSERT_NE(deadline, nullptr);
  ASSERT_EQ(deadline->grpc_status, 0) << deadline->grpc_message;
  int left_ms = std::stoi(deadline->message);
  EXPECT_GT(left_ms, 1000);
  EXPECT_LE(left_ms, 3000);

  const auto* large = h.find_user(4);
  ASSERT_NE(large, nullptr);
  EXPECT_EQ(large->grpc_status, 0) << large->grpc_message;
  EXPECT_TRUE(large->message == big);
}

}  // namespace
}  // namespace ringside::grpc
