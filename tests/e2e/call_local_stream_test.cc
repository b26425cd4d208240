// A real gRPC C++ client (generated ServiceInvocation stub) speaks CallLocalStream to a
// sidecar's internal port, as stock daprd peers do first (spec §2.3): chunked request with seq
// numbers, half-close, chunked response, and the leading-chunk / sequence rules.
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "dapr/proto/internals/v1/service_invocation.grpc.pb.h"
#include "tests/e2e/harness.h"

namespace ringside::e2e {
namespace {

namespace internals = dapr::proto::internals::v1;
namespace common = dapr::proto::common::v1;

// Only the callee side is needed: echo app and sidecar b; the test is b's gRPC peer.
struct Callee {
  TempDir dir;                         // logs and registry
  std::unique_ptr<ChildProcess> app;   // ringside-echo-app
  Sidecar b;                           // --app-id b in front of the app
  absl::Status Start() {
    uint16_t app_port = 0;
    auto started_app = StartEchoApp(dir, &app_port);
    if (!started_app.ok()) return started_app.status();
    app = std::move(*started_app);
    auto started_b = StartSidecar({.app_id = "b", .app_port = app_port, .nr_db = dir.File("nr.db")}, dir);
    if (!started_b.ok()) return started_b.status();
    b = std::move(*started_b);
    return absl::OkStatus();
  }
};

// What the caller saw: every response message in order and the final status.
struct Exchange {
  std::vector<internals::InternalInvokeResponseStream> messages;  // as read
  grpc::Status status;                                             // from Finish()
  bool all_written = true;                                         // every Write() succeeded

  // The response body: the payloads concatenated, checking seq runs 0, 1, 2, ...
  std::string Body(bool* seq_ok) const {
    std::string body;
    uint64_t seq = 0;
    *seq_ok = true;
    for (const auto& m : messages) {
      if (!m.has_payload()) continue;
      if (m.payload().seq() != seq++) *seq_ok = false;
      body += m.payload().data();
    }
    return body;
  }
};

class CallLocalStreamTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    callee_ = new Callee;
    start_status_ = new absl::Status(callee_->Start());
  }
  static void TearDownTestSuite() {
    delete callee_;
    delete start_status_;
  }
  void SetUp() override { ASSERT_TRUE(start_status_->ok()) << *start_status_; }
  void TearDown() override {
    if (HasFailure() && start_status_->ok()) std::cerr << callee_->b.process->LogTail();
  }

  // Sends `chunks`, half-closes, reads the whole answer (bounded by a 20 s deadline and a
  // message count), as daprd's caller side does.
  static Exchange Run(const std::vector<internals::InternalInvokeRequestStream>& chunks) {
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", callee_->b.ports.internal),
                                       grpc::InsecureChannelCredentials());
    auto stub = internals::ServiceInvocation::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 20s);
    auto stream = stub->CallLocalStream(&ctx);
    Exchange ex;
    for (const auto& c : chunks) {
      if (!stream->Write(c)) {  // the server answered early (an error): stop sending
        ex.all_written = false;
        break;
      }
    }
    stream->WritesDone();
    internals::InternalInvokeResponseStream m;
    for (int i = 0; i < 100000 && stream->Read(&m); ++i) ex.messages.push_back(m);
    ex.status = stream->Finish();
    return ex;
  }

  static Callee* callee_;
  static absl::Status* start_status_;
};

Callee* CallLocalStreamTest::callee_ = nullptr;
absl::Status* CallLocalStreamTest::start_status_ = nullptr;

// The leading chunk as daprd sends it: metadata, message without body bytes.
internals::InternalInvokeRequestStream Leading(const std::string& method = "echo") {
  internals::InternalInvokeRequestStream chunk;
  auto* req = chunk.mutable_request();
  req->set_ver(internals::V1);
  (*req->mutable_metadata())["content-type"].add_values("text/plain");
  (*req->mutable_metadata())["x-interop"].add_values("grpc-client");
  auto* message = req->mutable_message();
  message->set_method(method);
  message->set_content_type("text/plain");
  message->mutable_http_extension()->set_verb(common::HTTPExtension::POST);
  return chunk;
}

internals::InternalInvokeRequestStream Payload(const std::string& data, uint64_t seq) {
  internals::InternalInvokeRequestStream chunk;
  chunk.mutable_payload()->set_data(data);
  chunk.mutable_payload()->set_seq(seq);
  return chunk;
}

bool HasHeader(const internals::InternalInvokeResponse& r, const std::string& key,
               const std::string& value) {
  for (const auto& [k, values] : r.headers()) {
    if (absl::AsciiStrToLower(k) != key) continue;
    for (const auto& v : values.values()) {
      if (v == value) return true;
    }
  }
  return false;
}

TEST_F(CallLocalStreamTest, ThreeChunksAreEchoedAsAHeadThenPayloads) {
  auto first = Leading();
  first.mutable_payload()->set_data("hello ");
  first.mutable_payload()->set_seq(0);
  Exchange ex = Run({first, Payload("streamed ", 1), Payload("world", 2)});
  ASSERT_TRUE(ex.status.ok()) << ex.status.error_code() << ": " << ex.status.error_message();
  ASSERT_FALSE(ex.messages.empty());
  // Message 1: the response head, no body bytes; nothing after it carries a head.
  const auto& head = ex.messages[0];
  ASSERT_TRUE(head.has_response());
  EXPECT_EQ(head.response().status().code(), 200);
  EXPECT_TRUE(HasHeader(head.response(), "x-echo-method", "POST")) << head.DebugString();
  EXPECT_EQ(head.response().message().content_type(), "text/plain");
  EXPECT_TRUE(head.response().message().data().value().empty());
  for (size_t i = 1; i < ex.messages.size(); ++i) EXPECT_FALSE(ex.messages[i].has_response());
  bool seq_ok = false;
  EXPECT_EQ(ex.Body(&seq_ok), "hello streamed world");
  EXPECT_TRUE(seq_ok);
}

TEST_F(CallLocalStreamTest, OneMebibyteInDaprdSizedChunksRoundTrips) {
  std::string body(1 << 20, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + (i * 7 + i / 2048) % 26);
  std::vector<internals::InternalInvokeRequestStream> chunks{Leading()};
  constexpr size_t kDaprdChunk = 2048;
  for (size_t off = 0, seq = 0; off < body.size(); off += kDaprdChunk, ++seq) {
    chunks.push_back(Payload(body.substr(off, kDaprdChunk), seq));
  }
  Exchange ex = Run(chunks);
  ASSERT_TRUE(ex.status.ok()) << ex.status.error_code() << ": " << ex.status.error_message();
  ASSERT_FALSE(ex.messages.empty());
  ASSERT_TRUE(ex.messages[0].has_response());
  EXPECT_EQ(ex.messages[0].response().status().code(), 200);
  bool seq_ok = false;
  const std::string echoed = ex.Body(&seq_ok);
  EXPECT_EQ(echoed.size(), body.size());
  EXPECT_TRUE(echoed == body) << "echoed body differs";
  EXPECT_TRUE(seq_ok);
}

TEST_F(CallLocalStreamTest, EmptyBodyIsASingleMessageEachWay) {
  Exchange ex = Run({Leading()});
  ASSERT_TRUE(ex.status.ok()) << ex.status.error_code() << ": " << ex.status.error_message();
  ASSERT_EQ(ex.messages.size(), 1u);
  ASSERT_TRUE(ex.messages[0].has_response());
  EXPECT_FALSE(ex.messages[0].has_payload());
  EXPECT_EQ(ex.messages[0].response().status().code(), 200);
}

TEST_F(CallLocalStreamTest, AppStatusTravelsInsideAnOkStream) {
  auto first = Leading("status/404");
  first.mutable_request()->mutable_message()->mutable_http_extension()->set_verb(
      common::HTTPExtension::GET);
  Exchange ex = Run({first});
  ASSERT_TRUE(ex.status.ok()) << ex.status.error_code() << ": " << ex.status.error_message();
  ASSERT_FALSE(ex.messages.empty());
  EXPECT_EQ(ex.messages[0].response().status().code(), 404);
  bool seq_ok = false;
  EXPECT_EQ(ex.Body(&seq_ok), "status 404");
}

TEST_F(CallLocalStreamTest, GapInSequenceIsInvalidArgument) {
  auto first = Leading();
  first.mutable_payload()->set_data("a");
  first.mutable_payload()->set_seq(0);
  Exchange ex = Run({first, Payload("c", 2)});
  EXPECT_EQ(ex.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << ex.status.error_message();
  EXPECT_NE(ex.status.error_message().find("invalid sequence number received"), std::string::npos)
      << ex.status.error_message();
}

TEST_F(CallLocalStreamTest, SequenceNotStartingAtZeroIsInvalidArgument) {
  Exchange ex = Run({Leading(), Payload("a", 1)});
  EXPECT_EQ(ex.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << ex.status.error_message();
}

TEST_F(CallLocalStreamTest, RequestInANonLeadingChunkIsAnError) {
  auto second = Leading();
  second.mutable_payload()->set_data("b");
  second.mutable_payload()->set_seq(0);
  Exchange ex = Run({Leading(), second});
  EXPECT_EQ(ex.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << ex.status.error_message();
  EXPECT_NE(ex.status.error_message().find("request metadata found in non-leading chunk"),
            std::string::npos)
      << ex.status.error_message();
}

TEST_F(CallLocalStreamTest, LeadingChunkWithoutMetadataIsInvalidArgument) {
  auto first = Leading();
  first.mutable_request()->clear_metadata();
  Exchange ex = Run({first, Payload("x", 0)});
  EXPECT_EQ(ex.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << ex.status.error_message();
  EXPECT_NE(ex.status.error_message().find("required fields in the leading chunk"), std::string::npos)
      << ex.status.error_message();
}

TEST_F(CallLocalStreamTest, LeadingChunkWithOnlyAPayloadIsInvalidArgument) {
  Exchange ex = Run({Payload("x", 0)});
  EXPECT_EQ(ex.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << ex.status.error_message();
}

TEST_F(CallLocalStreamTest, BodyAboveMaxBodySizeIsResourceExhausted) {
  // The sidecar runs with the default --max-body-size of 4 MiB; send 4 MiB + 64 KiB.
  std::vector<internals::InternalInvokeRequestStream> chunks{Leading()};
  const std::string piece(64 << 10, 'z');
  for (uint64_t seq = 0; seq < 65; ++seq) chunks.push_back(Payload(piece, seq));
  Exchange ex = Run(chunks);
  EXPECT_EQ(ex.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << ex.status.error_message();
  // The sidecar keeps serving on a fresh call.
  Exchange next = Run({Leading(), Payload("ok", 0)});
  ASSERT_TRUE(next.status.ok()) << next.status.error_message();
}

TEST_F(CallLocalStreamTest, CallerDeadlineEndsASlowCallAndTheSidecarStaysUsable) {
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", callee_->b.ports.internal),
                                     grpc::InsecureChannelCredentials());
  auto stub = internals::ServiceInvocation::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 300ms);
  auto stream = stub->CallLocalStream(&ctx);
  auto first = Leading("sleep/1000");
  first.mutable_request()->mutable_message()->mutable_http_extension()->set_verb(
      common::HTTPExtension::GET);
  stream->Write(first);
  stream->WritesDone();
  internals::InternalInvokeResponseStream m;
  for (int i = 0; i < 1000 && stream->Read(&m); ++i) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  Exchange ex = Run({Leading(), Payload("again", 0)});
  ASSERT_TRUE(ex.status.ok()) << ex.status.error_message();
  bool seq_ok = false;
  EXPECT_EQ(ex.Body(&seq_ok), "again");
}

}  // namespace
}  // namespace ringside::e2e
