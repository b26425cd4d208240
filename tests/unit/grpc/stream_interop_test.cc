// Streaming interop with Debian's gRPC C++ (generic API, raw ByteBuffers): a real bidi client
// (GenericStub::PrepareCall) against GrpcServerConnection in stream mode, and
// GrpcClientConnection's streams against a real AsyncGenericService, over loopback sockets.
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "dataplane/grpc/status.h"
#include "tests/unit/grpc/loopback_pump.h"
#include "tests/unit/grpc/stream_app.h"

namespace ringside::grpc {
namespace {

using namespace std::chrono_literals;
using testing::bytes_of;
using testing::frame;

constexpr int kMessages = 1000;

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

// Waits for one completion with a deadline; false if it failed or timed out.
bool wait(::grpc::CompletionQueue& cq) {
  void* tag;
  bool ok = false;
  auto st = cq.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + 10s);
  return st == ::grpc::CompletionQueue::GOT_EVENT && ok;
}

void drain(::grpc::CompletionQueue& cq) {
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
}

// ---- (a) real gRPC C++ streaming client → GrpcServerConnection ----

// Echo app that also resets "/test.Stream/Cancel" calls on their first bytes.
struct InteropApp : testing::StreamServerApp {
  void on_stream_data(CallId id, std::span<const uint8_t> b) override {
    if (calls[id].path == "/test.Stream/Cancel") {
      conn->cancel(id);
      return;
    }
    StreamServerApp::on_stream_data(id, b);
  }
};

struct BidiOutcome {
  ::grpc::Status status;
  int echoed_in_order = 0;
  std::string header, trailer;
  bool read_failed_after_cancel = false;
};

BidiOutcome bidi_with_grpcpp(::grpc::GenericStub& stub, const std::string& method, int n) {
  ::grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 20s);
  ::grpc::CompletionQueue cq;
  BidiOutcome out;
  auto call = stub.PrepareCall(&ctx, method, &cq);
  call->StartCall(reinterpret_cast<void*>(1));
  bool ok = wait(cq);
  for (int i = 0; ok && i < n; ++i) {
    std::string m = "msg-" + std::to_string(i);
    call->Write(to_buffer(m), reinterpret_cast<void*>(2));
    if (!wait(cq)) break;
    ::grpc::ByteBuffer resp;
    call->Read(&resp, reinterpret_cast<void*>(3));
    if (!wait(cq)) {
      out.read_failed_after_cancel = true;
      break;
    }
    if (to_string(resp) == m) ++out.echoed_in_order;
  }
  if (!out.read_failed_after_cancel) {
    call->WritesDone(reinterpret_cast<void*>(4));
    wait(cq);
  }
  call->Finish(&out.status, reinterpret_cast<void*>(5));
  wait(cq);
  auto h = ctx.GetServerInitialMetadata().find("x-reply-header");
  if (h != ctx.GetServerInitialMetadata().end()) out.header = std::string(h->second.data(), h->second.size());
  auto t = ctx.GetServerTrailingMetadata().find("x-reply-trailer");
  if (t != ctx.GetServerTrailingMetadata().end()) out.trailer = std::string(t->second.data(), t->second.size());
  drain(cq);
  return out;
}

TEST(GrpcStreamInterop, RealGrpcBidiClientAgainstOurServer) {
  uint16_t port = 0;
  int lfd = testing::listen_loopback(&port);
  ASSERT_GE(lfd, 0);
  std::atomic<bool> client_done{false};
  BidiOutcome echo, cancelled;
  std::thread client([&] {
    auto channel = ::grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                         ::grpc::InsecureChannelCredentials());
    ::grpc::GenericStub stub(channel);
    echo = bidi_with_grpcpp(stub, "/test.Stream/Echo", kMessages);
    cancelled = bidi_with_grpcpp(stub, "/test.Stream/Cancel", 3);
    client_done = true;
  });
  int fd = testing::accept_with_timeout(lfd, 10000);
  ASSERT_GE(fd, 0);
  mem::ShardPool pool;
  InteropApp app;
  GrpcServerConnection server(&pool, &app, 4u << 20);
  app.conn = &server;
  ASSERT_TRUE(server.start());
  EXPECT_TRUE(testing::pump_socket(fd, server, &pool, [&] { return client_done.load(); }, 30000));
  client.join();
  ::close(fd);
  ::close(lfd);

  EXPECT_TRUE(echo.status.ok()) << echo.status.error_message();
  EXPECT_EQ(echo.echoed_in_order, kMessages);
  EXPECT_EQ(echo.header, "h1");
  EXPECT_EQ(echo.trailer, "t1");

  EXPECT_TRUE(cancelled.read_failed_after_cancel);
  EXPECT_EQ(cancelled.status.error_code(), ::grpc::StatusCode::CANCELLED)
      << cancelled.status.error_message();
  EXPECT_EQ(cancelled.echoed_in_order, 0);
}

// ---- (b) GrpcClientConnection streams → real AsyncGenericService ----

// Serves calls one after another: bidi echo until the client half-closes; "/test.Stream/Cancel"
// cancels the call after its first message.
class RealStreamingServer {
 public:
  RealStreamingServer() {
    ::grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", ::grpc::InsecureServerCredentials(), &port_);
    b.RegisterAsyncGenericService(&service_);
    cq_ = b.AddCompletionQueue();
    server_ = b.BuildAndStart();
    thread_ = std::thread([this] { serve(); });
  }
  ~RealStreamingServer() {
    // Shut down only while serve() waits for a new call: RequestCall racing the completion
    // queue's shutdown aborts inside gRPC.
    for (int i = 0; i < 1000 && !idle_.load(); ++i) std::this_thread::sleep_for(5ms);
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
    for (int calls = 0; calls < 16; ++calls) {
      ::grpc::GenericServerContext ctx;
      ::grpc::GenericServerAsyncReaderWriter stream(&ctx);
      service_.RequestCall(&ctx, &stream, cq_.get(), cq_.get(), reinterpret_cast<void*>(1));
      idle_ = true;
      if (!next()) break;
      idle_ = false;
      bool cancel = ctx.method() == "/test.Stream/Cancel";
      ctx.AddInitialMetadata("x-server-header", "sh");
      bool alive = true;
      for (int i = 0; i < 100000; ++i) {
        ::grpc::ByteBuffer req;
        stream.Read(&req, reinterpret_cast<void*>(2));
        if (!next()) break;  // client half-closed
        if (cancel) {
          ctx.TryCancel();
          alive = false;
          break;
        }
        stream.Write(req, reinterpret_cast<void*>(3));
        if (!next()) {
          alive = false;
          break;
        }
      }
      if (alive) {
        ctx.AddTrailingMetadata("x-server-trailer", "st");
        stream.Finish(::grpc::Status::OK, reinterpret_cast<void*>(4));
      } else {
        stream.Finish(::grpc::Status::CANCELLED, reinterpret_cast<void*>(4));
      }
      next();
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
  std::atomic<bool> idle_{false};  // serve() is parked waiting for the next call
};

// Ping-pong: sends message i+1 when echo i arrived; half-closes after kMessages.
struct PingPong : testing::StreamClientHandler {
  int sent = 0;
  int limit = kMessages;
  void send_next() {
    EXPECT_TRUE(conn->send_data(stream, bytes_of(frame("ping-" + std::to_string(sent++)))));
  }
  void on_stream_data(void* user, std::span<const uint8_t> b) override {
    size_t before = in.messages.size();
    StreamClientHandler::on_stream_data(user, b);
    for (size_t k = before; k < in.messages.size(); ++k) {
      if (sent < limit) {
        send_next();
      } else if (in.messages.size() == static_cast<size_t>(limit)) {
        conn->close_send(stream);
      }
    }
  }
};

TEST(GrpcStreamInterop, OurStreamsAgainstRealGrpcServer) {
  RealStreamingServer real;
  ASSERT_GT(real.port(), 0);
  int fd = testing::connect_loopback(static_cast<uint16_t>(real.port()));
  ASSERT_GE(fd, 0);
  mem::ShardPool pool;
  PingPong h;
  GrpcClientConnection client(&pool, &h, 4u << 20);
  h.conn = &client;
  ASSERT_TRUE(client.start());
  std::string authority = "127.0.0.1:" + std::to_string(real.port());

  h.stream = client.start_stream("/test.Stream/Echo", authority, {}, 20'000'000'000, nullptr);
  ASSERT_GT(h.stream, 0);
  h.send_next();
  EXPECT_TRUE(testing::pump_socket(fd, client, &pool, [&] { return h.ended; }, 30000));
  EXPECT_EQ(h.status, 0) << h.message;
  EXPECT_EQ(testing::find(h.headers, "x-server-header"), "sh");
  EXPECT_EQ(testing::find(h.trailers, "x-server-trailer"), "st");
  ASSERT_EQ(h.in.messages.size(), static_cast<size_t>(kMessages));
  for (int i = 0; i < kMessages; ++i) ASSERT_EQ(h.in.messages[i], "ping-" + std::to_string(i));

  // The server cancels mid-stream: the client sees CANCELLED.
  PingPong h2;
  h2.conn = &client;
  ::close(fd);
  client.on_transport_closed();

  int fd2 = testing::connect_loopback(static_cast<uint16_t>(real.port()));
  ASSERT_GE(fd2, 0);
  GrpcClientConnection client2(&pool, &h2, 4u << 20);
  h2.conn = &client2;
  ASSERT_TRUE(client2.start());
  h2.stream = client2.start_stream("/test.Stream/Cancel", authority, {}, 0, nullptr);
  ASSERT_GT(h2.stream, 0);
  h2.send_next();
  EXPECT_TRUE(testing::pump_socket(fd2, client2, &pool, [&] { return h2.ended; }, 10000));
  EXPECT_EQ(h2.status, static_cast<int>(StatusCode::kCancelled)) << h2.message;
  EXPECT_FALSE(h2.transport_error);
  ::close(fd2);
}

}  // namespace
}  // namespace ringside::grpc
