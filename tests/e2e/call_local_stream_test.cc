// A real gRPC C++ client (generated ServiceInvocation stub) speaks CallLocalStream to a
// sidecar's internal port, as stock daprd peers do first (spec §2.3): chunked request with seq
// numbers, half-close, chunked response, and the leading-chunk / sequence rules.
//
// Issue 3: the callee streams both ways. 64 MiB bodies cross sidecar b with its peak RSS bounded
// by a few flow-control windows (LargeBodyTest), the app sees Content-Length or chunked framing
// as the caller declared, chunked / until-close / early answers from an app come through
// (ScriptedAppTest), and a gRPC app still gets whole requests (GrpcAppCallLocalStreamTest).
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "dapr/proto/internals/v1/service_invocation.grpc.pb.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/inspected_request.h"

namespace ringside::e2e {
namespace {

namespace internals = dapr::proto::internals::v1;
namespace common = dapr::proto::common::v1;

// Only the callee side is needed: echo app and sidecar b; the test is b's gRPC peer.
struct Callee {
  TempDir dir;                         // logs and registry
  std::unique_ptr<ChildProcess> app;   // ringside-echo-app
  Sidecar b;                           // --app-id b in front of the app
  absl::Status Start(const std::string& max_body_size = {}) {
    uint16_t app_port = 0;
    auto started_app = StartEchoApp(dir, &app_port);
    if (!started_app.ok()) return started_app.status();
    app = std::move(*started_app);
    auto started_b = StartSidecar({.app_id = "b", .app_port = app_port, .nr_db = dir.File("nr.db"),
                                   .max_body_size = max_body_size},
                                  dir);
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

// Sends `chunks` to the internal port `port`, half-closes, reads the whole answer (bounded by a
// 20 s deadline and a message count), as daprd's caller side does.
// Over `channel` when one is given (calls that must share one connection, and so one
// shard of the callee); otherwise over a channel of its own.
Exchange RunCall(uint16_t port, const std::vector<internals::InternalInvokeRequestStream>& chunks,
                 std::shared_ptr<grpc::Channel> channel = nullptr) {
  if (!channel) channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
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

  static Exchange Run(const std::vector<internals::InternalInvokeRequestStream>& chunks) {
    return RunCall(callee_->b.ports.internal, chunks);
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

// ---- how the app sees the request body (issue 3) -------------------------------------------

// The leading chunk with a "content-length" metadata entry, as daprd forwards an HTTP caller's
// Content-Length header.
internals::InternalInvokeRequestStream LeadingWithLength(const std::string& method, uint64_t length) {
  auto chunk = Leading(method);
  (*chunk.mutable_request()->mutable_metadata())["Content-Length"].add_values(absl::StrCat(length));
  return chunk;
}

internals::InternalInvokeRequestStream WithVerb(internals::InternalInvokeRequestStream chunk,
                                                common::HTTPExtension::Verb verb) {
  chunk.mutable_request()->mutable_message()->mutable_http_extension()->set_verb(verb);
  return chunk;
}

// What the echo app's /inspect route reported, from an exchange's body.
std::optional<InspectedRequest> Inspected(const Exchange& ex) {
  bool seq_ok = false;
  return ParseInspectedRequest(ex.Body(&seq_ok));
}

TEST_F(CallLocalStreamTest, DeclaredLengthReachesTheAppAsContentLength) {
  Exchange ex = Run({LeadingWithLength("inspect", 5), Payload("ab", 0), Payload("cde", 1)});
  ASSERT_TRUE(ex.status.ok()) << ex.status.error_code() << ": " << ex.status.error_message();
  auto seen = Inspected(ex);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->body_length, 5);
  EXPECT_FALSE(seen->chunked);
  EXPECT_EQ(seen->Values("Content-Length"), std::vector<std::string>{"5"});  // ours only
  EXPECT_FALSE(seen->Has("Transfer-Encoding"));
}

TEST_F(CallLocalStreamTest, UnknownLengthReachesTheAppChunked) {
  Exchange ex = Run({Leading("inspect"), Payload("ab", 0), Payload("cde", 1)});
  ASSERT_TRUE(ex.status.ok()) << ex.status.error_code() << ": " << ex.status.error_message();
  auto seen = Inspected(ex);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->body_length, 5);
  EXPECT_TRUE(seen->chunked);
  EXPECT_FALSE(seen->Has("Content-Length"));
}

TEST_F(CallLocalStreamTest, GetWithoutBodyReachesTheAppWithoutBodyFraming) {
  // Go's client sends a GET whose body turns out empty with neither header; so does ringside.
  Exchange ex = Run({WithVerb(Leading("inspect"), common::HTTPExtension::GET)});
  ASSERT_TRUE(ex.status.ok()) << ex.status.error_code() << ": " << ex.status.error_message();
  auto seen = Inspected(ex);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->method, "GET");
  EXPECT_EQ(seen->body_length, 0);
  EXPECT_FALSE(seen->Has("Content-Length"));
  EXPECT_FALSE(seen->Has("Transfer-Encoding"));
}

TEST_F(CallLocalStreamTest, HeadAnswerIsAHeadWithoutPayloads) {
  Exchange ex = Run({WithVerb(Leading("echo"), common::HTTPExtension::HEAD)});
  ASSERT_TRUE(ex.status.ok()) << ex.status.error_code() << ": " << ex.status.error_message();
  ASSERT_EQ(ex.messages.size(), 1u);
  EXPECT_EQ(ex.messages[0].response().status().code(), 200);
  EXPECT_TRUE(HasHeader(ex.messages[0].response(), "x-echo-method", "HEAD"));
}

TEST_F(CallLocalStreamTest, BodyLongerThanDeclaredIsInternal) {
  Exchange ex = Run({LeadingWithLength("echo", 3), Payload("abcdef", 0)});
  EXPECT_EQ(ex.status.error_code(), grpc::StatusCode::INTERNAL) << ex.status.error_message();
  EXPECT_NE(ex.status.error_message().find("ContentLength=3 with Body length 6"), std::string::npos)
      << ex.status.error_message();
}

TEST_F(CallLocalStreamTest, BodyShorterThanDeclaredIsInternalAndTheAppStaysReachable) {
  Exchange ex = Run({LeadingWithLength("echo", 10), Payload("abc", 0)});
  EXPECT_EQ(ex.status.error_code(), grpc::StatusCode::INTERNAL) << ex.status.error_message();
  EXPECT_NE(ex.status.error_message().find("ContentLength=10 with Body length 3"), std::string::npos)
      << ex.status.error_message();
  Exchange next = Run({LeadingWithLength("echo", 2), Payload("ok", 0)});
  ASSERT_TRUE(next.status.ok()) << next.status.error_message();
  bool seq_ok = false;
  EXPECT_EQ(next.Body(&seq_ok), "ok");
}

TEST_F(CallLocalStreamTest, DeclaredLengthAboveMaxBodySizeIsResourceExhausted) {
  Exchange ex = Run({LeadingWithLength("echo", 5u << 20), Payload("x", 0)});
  EXPECT_EQ(ex.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << ex.status.error_message();
}

TEST_F(CallLocalStreamTest, CallerCancelMidBodyLeavesTheSidecarUsable) {
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", callee_->b.ports.internal),
                                     grpc::InsecureChannelCredentials());
  auto stub = internals::ServiceInvocation::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 20s);
  auto stream = stub->CallLocalStream(&ctx);
  // The app waits for 1 MiB and gets 128 KiB before the caller gives up.
  ASSERT_TRUE(stream->Write(LeadingWithLength("echo", 1u << 20)));
  const std::string piece(64 << 10, 'c');
  EXPECT_TRUE(stream->Write(Payload(piece, 0)));
  EXPECT_TRUE(stream->Write(Payload(piece, 1)));
  ctx.TryCancel();
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  Exchange ex = Run({Leading(), Payload("after cancel", 0)});
  ASSERT_TRUE(ex.status.ok()) << ex.status.error_message();
  bool seq_ok = false;
  EXPECT_EQ(ex.Body(&seq_ok), "after cancel");
}

// ---- 64 MiB through sidecar b with bounded memory (issue 3) --------------------------------

constexpr uint64_t k64MiB = uint64_t{64} << 20;
constexpr size_t kPayloadBytes = size_t{64} << 10;  // what the test client puts in one payload

// Peak RSS that b may add to its warmed-up peak while moving a 64 MiB body. What b holds per
// call is bounded by flow-control windows, not by the body:
//  - request: the caller may send one HTTP/2 stream window (8 MiB, SessionSettings) before the
//    withheld WINDOW_UPDATE stops it; what the app socket has not taken waits in 64 KiB pool
//    blocks (PooledByteQueue), the socket itself gets 256 KiB at a time: ~8.5 MiB;
//  - answer: the caller's send queue pauses the app at 256 KiB (+ what one read or the paused
//    socket's in-flight reads bring); the ingress connection's output takes what the caller's
//    own HTTP/2 window allows (gRPC stacks grow it by BDP probing, Go's up to 16 MiB), in a
//    buffer that doubles its way there (up to 2x): ~33 MiB.
// Measured over repeated runs (Release and ASan, 1 shard): +2..8 MiB for the requests,
// +10..31 MiB for the echo, +22..36 MiB for the slow reader. The assemble-then-answer path
// before it reached +124 MiB and then failed (a 64 MiB body does not fit the pool's largest
// block).
constexpr uint64_t kRssAllowance = uint64_t{48} << 20;

// The test body: byte i depends on i only, so any piece can be checked where it lands.
std::string Pattern(uint64_t offset, size_t n) {
  std::string out(n, '\0');
  for (size_t k = 0; k < n; ++k) {
    out[k] = static_cast<char>(((offset + k) * 0x9E3779B97F4A7C15ull) >> 56);
  }
  return out;
}

// What the caller saw of a large exchange (the body is checked on the fly, not kept).
struct BigExchange {
  grpc::Status status;          // from Finish()
  bool all_written = true;      // every Write() succeeded
  bool head_first = false;      // message 1 carried the response head
  int http_status = 0;          // its status code
  bool later_heads = false;     // a later message carried a response head too
  bool seq_ok = true;           // payload seq ran 0, 1, 2, ...
  uint64_t body_bytes = 0;      // payload bytes received
  bool body_is_pattern = true;  // every payload byte equals Pattern() at its offset
  std::string body_prefix;      // the first 1 MiB of the body (a JSON answer fits)
};

// How StreamBig behaves.
struct BigOptions {
  std::string method = "echo";               // the app route
  bool declare_length = false;               // send a content-length metadata entry
  std::function<void()> after_half_close;    // runs before the first Read (a slow reader sleeps)
  size_t slow_messages = 0;                  // this many Reads each wait 2 ms first
  // Read the answer while writing (another thread), as a client of an app that answers as it
  // reads must: the echo app streams bodies of 1 MiB and more back as they arrive, so a client
  // that writes 64 MiB before its first Read stalls the whole path once the windows fill.
  bool full_duplex = false;
};

// Streams 64 MiB of Pattern() in kPayloadBytes payloads to `port`, half-closes, reads the answer.
BigExchange StreamBig(uint16_t port, const BigOptions& o) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  auto channel = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                           grpc::InsecureChannelCredentials(), args);
  auto stub = internals::ServiceInvocation::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 100s);
  auto stream = stub->CallLocalStream(&ctx);
  BigExchange ex;
  auto first = o.declare_length ? LeadingWithLength(o.method, k64MiB) : Leading(o.method);
  auto read_answer = [&] {
    internals::InternalInvokeResponseStream m;
    uint64_t seq = 0;
    for (size_t i = 0; i < 200000; ++i) {
    if (i < o.slow_messages) std::this_thread::sleep_for(2ms);
      if (!stream->Read(&m)) break;
      if (i == 0) {
        ex.head_first = m.has_response();
        ex.http_status = m.response().status().code();
      } else if (m.has_response()) {
        ex.later_heads = true;
      }
      if (!m.has_payload()) continue;
      if (m.payload().seq() != seq++) ex.seq_ok = false;
      const std::string& data = m.payload().data();
      if (ex.body_is_pattern && data != Pattern(ex.body_bytes, data.size())) ex.body_is_pattern = false;
      if (ex.body_prefix.size() < (1u << 20)) ex.body_prefix += data.substr(0, (1u << 20) - ex.body_prefix.size());
      ex.body_bytes += data.size();
    }
  };
  bool wrote = stream->Write(first);
  std::thread reader;
  if (o.full_duplex) reader = std::thread(read_answer);
  for (uint64_t off = 0, seq = 0; wrote && off < k64MiB; off += kPayloadBytes, ++seq) {
    wrote = stream->Write(Payload(Pattern(off, kPayloadBytes), seq));
  }
  ex.all_written = wrote;
  stream->WritesDone();
  if (o.full_duplex) {
    reader.join();
  } else {
    if (o.after_half_close) o.after_half_close();
    read_answer();
  }
  ex.status = stream->Finish();
  return ex;
}

// A fresh echo app and sidecar b (--max-body-size 256Mi) per test, so each test's peak RSS is
// its own.
class LargeBodyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status started = callee_.Start("256Mi");
    ASSERT_TRUE(started.ok()) << started;
    // Warm-up, so that the baseline holds what b keeps whatever the body size: the app
    // connection, and the shard's receive ring (1024 x 16 KiB provided buffers, resident once
    // ~16 MiB have been received). 12 echoes of 1 MiB receive 24 MiB.
    // Every shard must be warm, because the big call may land on any of them (as in
    // invoke_stream_test.cc): one connection per shard, each kept open while the next connects,
    // so the accept balancer (fewest live connections) spreads them. Sequential calls on fresh
    // channels leave the shard to the kernel's port hash, and a big call on a cold shard pays
    // its ring (+16 MiB) on top of what this test bounds. Each channel has its own subchannel
    // pool, so the two do not share one connection.
    const std::string mib = RandomBytes(1u << 20, 1);
    std::vector<internals::InternalInvokeRequestStream> chunks{Leading()};
    for (size_t off = 0, seq = 0; off < mib.size(); off += kPayloadBytes, ++seq) {
      chunks.push_back(Payload(mib.substr(off, kPayloadBytes), seq));
    }
    const int shards = std::stoi(E2eShards());
    std::vector<std::shared_ptr<grpc::Channel>> channels;
    for (int s = 0; s < shards; ++s) {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      channels.push_back(grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port()),
                                                   grpc::InsecureChannelCredentials(), args));
      for (int i = 0; i < 12; ++i) {
        Exchange warm = RunCall(port(), chunks, channels.back());
        ASSERT_TRUE(warm.status.ok()) << warm.status.error_message();
      }
    }
    baseline_ = PeakRssBytes(callee_.b.process->pid());
    ASSERT_GT(baseline_, 0u);
  }
  void TearDown() override {
    const uint64_t peak = PeakRssBytes(callee_.b.process->pid());
    std::cout << "sidecar b VmHWM: baseline " << baseline_ / 1024 << " KiB, after the test "
              << peak / 1024 << " KiB (+" << (peak - std::min(peak, baseline_)) / 1024 << " KiB)\n";
    if (HasFailure()) std::cerr << callee_.b.process->LogTail();
  }
  uint16_t port() const { return callee_.b.ports.internal; }
  void ExpectBoundedPeak() {
    const uint64_t peak = PeakRssBytes(callee_.b.process->pid());
    EXPECT_LT(peak, baseline_ + kRssAllowance)
        << "b's peak RSS grew by " << (peak - std::min(peak, baseline_)) / 1024 << " KiB";
  }

  Callee callee_;
  uint64_t baseline_ = 0;  // b's VmHWM after start and one small call
};

TEST_F(LargeBodyTest, SixtyFourMiBWithDeclaredLengthReachesTheAppUnchunked) {
  BigExchange ex = StreamBig(port(), {.method = "inspect", .declare_length = true});
  ASSERT_TRUE(ex.status.ok()) << ex.status.error_code() << ": " << ex.status.error_message();
  EXPECT_TRUE(ex.all_written);
  auto seen = ParseInspectedRequest(ex.body_prefix);
  ASSERT_TRUE(seen.has_value()) << ex.body_prefix.substr(0, 300);
  EXPECT_EQ(seen->body_length, 67108864);
  EXPECT_FALSE(seen->chunked);
  EXPECT_EQ(seen->First("Content-Length"), "67108864");
  ExpectBoundedPeak();
}

TEST_F(LargeBodyTest, SixtyFourMiBOfUnknownLengthReachesTheAppChunked) {
  BigExchange ex = StreamBig(port(), {.method = "inspect"});
  ASSERT_TRUE(ex.status.ok()) << ex.status.error_code() << ": " << ex.status.error_message();
  auto seen = ParseInspectedRequest(ex.body_prefix);
  ASSERT_TRUE(seen.has_value()) << ex.body_prefix.substr(0, 300);
  EXPECT_EQ(seen->body_length, 67108864);
  EXPECT_TRUE(seen->chunked);
  ExpectBoundedPeak();
}

TEST_F(LargeBodyTest, SixtyFourMiBEchoRoundTripsWithBoundedMemory) {
  BigExchange ex = StreamBig(port(), {.method = "echo", .declare_length = true, .full_duplex = true});
  ASSERT_TRUE(ex.status.ok()) << ex.status.error_code() << ": " << ex.status.error_message();
  EXPECT_TRUE(ex.head_first);
  EXPECT_EQ(ex.http_status, 200);
  EXPECT_FALSE(ex.later_heads);
  EXPECT_TRUE(ex.seq_ok);
  EXPECT_EQ(ex.body_bytes, k64MiB);
  EXPECT_TRUE(ex.body_is_pattern) << "the echoed body differs from what was sent";
  ExpectBoundedPeak();
}

TEST_F(LargeBodyTest, SlowReaderBackPressuresTheAppAndMemoryStaysBounded) {
  // The caller stops reading for a while, then reads slowly: b must stop reading the app's
  // answer instead of queueing it.
  uint64_t peak_while_stalled = 0;
  const pid_t pid = callee_.b.process->pid();
  BigExchange ex = StreamBig(port(), {.method = "echo",
                                      .after_half_close =
                                          [&] {
                                            std::this_thread::sleep_for(3s);
                                            peak_while_stalled = PeakRssBytes(pid);
                                          },
                                      .slow_messages = 300});
  ASSERT_TRUE(ex.status.ok()) << ex.status.error_code() << ": " << ex.status.error_message();
  EXPECT_TRUE(ex.seq_ok);
  EXPECT_EQ(ex.body_bytes, k64MiB);
  EXPECT_TRUE(ex.body_is_pattern);
  EXPECT_LT(peak_while_stalled, baseline_ + kRssAllowance);
  ExpectBoundedPeak();
}

// ---- answers of every HTTP framing, from an app scripted here (issue 3) --------------------

// A tiny HTTP/1.1 app in this process. Routes (path):
//   /chunked      echoes the body with Transfer-Encoding: chunked, in uneven chunks (with
//                 extensions and a trailer) written piecemeal; X-Request-On-Conn tells how many
//                 requests this connection has carried
//   /until-close  echoes the body without a length, then closes
//   /early        answers 413 (Connection: close) after the head, before reading the body,
//                 then drains until the sidecar closes
//   /malformed    answers a broken status line
//   /broken       promises 100000 bytes, sends 10, closes
class ScriptedApp {
 public:
  ScriptedApp() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::listen(listen_fd_, 64) == 0 &&
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~ScriptedApp() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    ::close(listen_fd_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);  // wakes workers blocked in reads
    }
    // Joined without the lock: a returning worker takes it to forget its fd.
    for (auto& t : workers_) t.join();
  }
  uint16_t port() const { return port_; }

 private:
  void Accept() {
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      std::lock_guard<std::mutex> lock(mu_);
      open_fds_.push_back(fd);
      workers_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  // The chunked framing of `body` as a list of writes.
  static void ChunkedEcho(const std::string& body, std::vector<std::string>* writes) {
    static constexpr size_t kSizes[] = {1, 5, 300, 4096, 16383, 16384, 70000, 131072, 2, 99999};
    size_t i = 0;
    for (size_t off = 0; off < body.size(); ++i) {
      const size_t n = std::min(kSizes[i % std::size(kSizes)], body.size() - off);
      char size[32];
      snprintf(size, sizeof size, "%zx%s\r\n", n, i % 3 == 1 ? ";ext=v" : "");
      writes->push_back(size);  // the size line alone: framing straddles the sidecar's reads
      writes->push_back(body.substr(off, n) + "\r\n");
      off += n;
    }
    writes->push_back("0\r\nX-Trailer: t\r\n\r\n");
  }

  // Forgets a connection's fd before its owner closes it, so ~ScriptedApp never shuts down a
  // descriptor number that was reused meanwhile.
  struct Forget {
    ScriptedApp* app;
    int fd;
    ~Forget() {
      std::lock_guard<std::mutex> lock(app->mu_);
      std::erase(app->open_fds_, fd);
    }
  };

  void Serve(int fd) {
    BlockingHttpConnection conn(fd);  // owns and closes fd (after `forget` ran)
    Forget forget{this, fd};
    const auto deadline = [] { return Clock::now() + 60s; };
    for (int served = 1;; ++served) {
      auto request = conn.ReadRequestHead(deadline());
      if (!request.ok()) return;
      const std::string path = request->token2;
      if (path == "/early") {
        // As Go's server answers a handler that left a large body unread: Connection: close,
        // then read and drop the body until the sidecar gives the connection up (closing with
        // unread bytes would reset the connection and could destroy the answer before the
        // sidecar read it). Bounded by a receive timeout.
        (void)conn.SendAll(
            "HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 8\r\nConnection: close\r\n\r\n"
            "too big!",
            deadline());
        timeval timeout{60, 0};
        ::setsockopt(conn.fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        char sink[65536];
        while (::recv(conn.fd(), sink, sizeof sink, 0) > 0) {
        }
        return;
      }
      if (!conn.ReadRequestBody(&*request, deadline()).ok()) return;
      if (path == "/chunked") {
        std::vector<std::string> writes{absl::StrCat(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
            "X-Request-On-Conn: ",
            served, "\r\n\r\n")};
        ChunkedEcho(request->body, &writes);
        for (const auto& w : writes) {
          if (!conn.SendAll(w, deadline()).ok()) return;
        }
        continue;
      }
      if (path == "/until-close") {
        (void)conn.SendAll("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + request->body,
                           deadline());
        return;
      }
      if (path == "/malformed") {
        (void)conn.SendAll("HTTP/1.1 2x0 Nope\r\n\r\n", deadline());
        return;
      }
      if (path == "/broken") {
        (void)conn.SendAll("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n0123456789", deadline());
        return;
      }
      (void)conn.SendAll("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", deadline());
    }
  }

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> open_fds_;
  std::vector<std::thread> workers_;
};

class ScriptedAppTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    app_ = new ScriptedApp;
    auto b = StartSidecar({.app_id = "b", .app_port = app_->port(), .nr_db = dir_->File("nr.db")}, *dir_);
    start_status_ = new absl::Status(b.status());
    if (b.ok()) b_ = new Sidecar(std::move(*b));
  }
  static void TearDownTestSuite() {
    delete b_;  // the sidecar first: its connections close, the app's workers return
    delete app_;
    delete dir_;
    delete start_status_;
  }
  void SetUp() override { ASSERT_TRUE(start_status_->ok()) << *start_status_; }
  void TearDown() override {
    if (HasFailure() && b_) std::cerr << b_->process->LogTail();
  }
  static Exchange Call(const std::string& method, const std::string& body,
                       std::shared_ptr<grpc::Channel> channel = nullptr) {
    auto first = Leading(method);
    std::vector<internals::InternalInvokeRequestStream> chunks{first};
    for (size_t off = 0, seq = 0; off < body.size(); off += 2048, ++seq) {
      chunks.push_back(Payload(body.substr(off, 2048), seq));
    }
    return RunCall(b_->ports.internal, chunks, std::move(channel));
  }

  static TempDir* dir_;
  static ScriptedApp* app_;
  static Sidecar* b_;
  static absl::Status* start_status_;
};

TempDir* ScriptedAppTest::dir_ = nullptr;
ScriptedApp* ScriptedAppTest::app_ = nullptr;
Sidecar* ScriptedAppTest::b_ = nullptr;
absl::Status* ScriptedAppTest::start_status_ = nullptr;

TEST_F(ScriptedAppTest, ChunkedAnswerArrivesWholeAndKeepsTheConnection) {
  const std::string body = RandomBytes(1u << 20, 7);
  std::string on_conn;
  // One connection to b for both rounds: with several shards, a second connection may be
  // accepted by another shard, whose app pool has its own connections.
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", b_->ports.internal),
                                     grpc::InsecureChannelCredentials());
  for (int round = 0; round < 2; ++round) {
    Exchange ex = Call("chunked", body, channel);
    ASSERT_TRUE(ex.status.ok()) << ex.status.error_code() << ": " << ex.status.error_message();
    ASSERT_FALSE(ex.messages.empty());
    EXPECT_EQ(ex.messages[0].response().status().code(), 200);
    for (const auto& [k, values] : ex.messages[0].response().headers()) {
      if (absl::AsciiStrToLower(k) == "x-request-on-conn" && values.values_size() > 0) {
        on_conn = values.values(0);
      }
    }
    bool seq_ok = false;
    const std::string echoed = ex.Body(&seq_ok);
    EXPECT_TRUE(seq_ok);
    EXPECT_EQ(echoed.size(), body.size());
    EXPECT_TRUE(echoed == body) << "round " << round;
  }
  // The second call went over the connection the first one used.
  EXPECT_NE(on_conn, "1");
  EXPECT_FALSE(on_conn.empty());
}

TEST_F(ScriptedAppTest, AnswerEndingAtCloseArrivesWhole) {
  const std::string body = RandomBytes(300000, 11);
  Exchange ex = Call("until-close", body);
  ASSERT_TRUE(ex.status.ok()) << ex.status.error_code() << ": " << ex.status.error_message();
  bool seq_ok = false;
  EXPECT_TRUE(ex.Body(&seq_ok) == body);
  EXPECT_TRUE(seq_ok);
}

TEST_F(ScriptedAppTest, AnswerBeforeTheBodyIsDeliveredAndTheAppStaysReachable) {
  // 3 MiB: more than the sockets between b and the app buffer while nobody reads.
  Exchange ex = Call("early", std::string(3u << 20, 'e'));
  ASSERT_TRUE(ex.status.ok()) << ex.status.error_code() << ": " << ex.status.error_message();
  ASSERT_FALSE(ex.messages.empty());
  EXPECT_EQ(ex.messages[0].response().status().code(), 413);
  bool seq_ok = false;
  EXPECT_EQ(ex.Body(&seq_ok), "too big!");
  Exchange next = Call("chunked", "still here");
  ASSERT_TRUE(next.status.ok()) << next.status.error_message();
  EXPECT_EQ(next.Body(&seq_ok), "still here");
}

TEST_F(ScriptedAppTest, MalformedAnswerIsInternal) {
  Exchange ex = Call("malformed", "x");
  EXPECT_EQ(ex.status.error_code(), grpc::StatusCode::INTERNAL) << ex.status.error_message();
  EXPECT_NE(ex.status.error_message().find("malformed HTTP response"), std::string::npos)
      << ex.status.error_message();
}

TEST_F(ScriptedAppTest, AnswerCutShortAfterItsHeadEndsInternal) {
  Exchange ex = Call("broken", "x");
  EXPECT_EQ(ex.status.error_code(), grpc::StatusCode::INTERNAL) << ex.status.error_message();
  ASSERT_FALSE(ex.messages.empty());
  EXPECT_EQ(ex.messages[0].response().status().code(), 200);  // the head had gone out
  EXPECT_NE(ex.status.error_message().find("unexpected EOF"), std::string::npos)
      << ex.status.error_message();
}

// ---- a gRPC app still gets whole requests (OnInvoke is unary) ------------------------------

class GrpcAppCallLocalStreamTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    start_status_ = new absl::Status(Start());
  }
  static absl::Status Start() {
    if (!BinaryExists("ringside-grpc-echo-app")) return absl::NotFoundError("ringside-grpc-echo-app is not built");
    const uint16_t app_port = PickFreePort();
    auto app = ChildProcess::Spawn(BinPath("ringside-grpc-echo-app"), {"--port", absl::StrCat(app_port)}, {},
                                   dir_->File("grpc-echo-app.log"));
    if (!app.ok()) return app.status();
    app_ = app->release();
    if (!WaitForListening(app_port, 10s)) return absl::DeadlineExceededError("gRPC echo app not listening");
    auto b = StartSidecar({.app_id = "b", .nr_db = dir_->File("nr.db"),
                           .extra_args = {"--app-port", absl::StrCat(app_port), "--app-protocol", "grpc"}},
                          *dir_);
    if (!b.ok()) return b.status();
    b_ = new Sidecar(std::move(*b));
    return absl::OkStatus();
  }
  static void TearDownTestSuite() {
    delete b_;
    delete app_;
    delete dir_;
    delete start_status_;
  }
  void SetUp() override { ASSERT_TRUE(start_status_->ok()) << *start_status_; }
  void TearDown() override {
    if (HasFailure() && b_) std::cerr << b_->process->LogTail();
  }

  static TempDir* dir_;
  static ChildProcess* app_;
  static Sidecar* b_;
  static absl::Status* start_status_;
};

TempDir* GrpcAppCallLocalStreamTest::dir_ = nullptr;
ChildProcess* GrpcAppCallLocalStreamTest::app_ = nullptr;
Sidecar* GrpcAppCallLocalStreamTest::b_ = nullptr;
absl::Status* GrpcAppCallLocalStreamTest::start_status_ = nullptr;

TEST_F(GrpcAppCallLocalStreamTest, OneMebibyteIsEchoedByOnInvoke) {
  const std::string body = RandomBytes(1u << 20, 3);
  std::vector<internals::InternalInvokeRequestStream> chunks{Leading()};
  for (size_t off = 0, seq = 0; off < body.size(); off += 2048, ++seq) {
    chunks.push_back(Payload(body.substr(off, 2048), seq));
  }
  Exchange ex = RunCall(b_->ports.internal, chunks);
  ASSERT_TRUE(ex.status.ok()) << ex.status.error_code() << ": " << ex.status.error_message();
  ASSERT_FALSE(ex.messages.empty());
  ASSERT_TRUE(ex.messages[0].has_response());
  EXPECT_EQ(ex.messages[0].response().status().code(), 0);  // a gRPC app's OK
  EXPECT_TRUE(HasHeader(ex.messages[0].response(), "x-app-header", "on-invoke"))
      << ex.messages[0].DebugString();
  EXPECT_TRUE(ex.messages[0].response().message().data().value().empty());
  bool seq_ok = false;
  const std::string echoed = ex.Body(&seq_ok);
  EXPECT_TRUE(seq_ok);
  EXPECT_EQ(echoed.size(), body.size());
  EXPECT_TRUE(echoed == body);
}

TEST_F(GrpcAppCallLocalStreamTest, AppStatusTravelsInsideAnOkStream) {
  Exchange ex = RunCall(b_->ports.internal, {Leading("status/5")});
  ASSERT_TRUE(ex.status.ok()) << ex.status.error_code() << ": " << ex.status.error_message();
  ASSERT_FALSE(ex.messages.empty());
  EXPECT_EQ(ex.messages[0].response().status().code(), 5);
  EXPECT_EQ(ex.messages[0].response().status().message(), "status 5");
}

}  // namespace
}  // namespace ringside::e2e
