// Limits on the gRPC ports (issue 10), with real processes: a sidecar with its HTTP echo app,
// attacked on its API gRPC port (the internal port shares GrpcPortConnection; one silent
// connection checks it too).
//   - slowloris: a silent TCP connection, a partial connection preface, a HEADERS frame whose
//     END_HEADERS never comes are closed after --http-header-timeout;
//   - a connection with no call and no frame gets GOAWAY(NO_ERROR) after --http-idle-timeout,
//     and a grpc++ channel's next call still succeeds (it reconnects);
//   - meanwhile normal grpc++ calls keep being served;
//   - and on the HTTP port: a streamed (chunked) request body that stalls mid-way gets 408
//     after --http-body-timeout, and the callee's app slot is released (--app-max-concurrency 1
//     on the callee: the next call gets through only if the stalled request ended at the app).
// The timeouts are 1 s so the suite stays fast; every loop is bounded in time and count.
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <thread>
#include <vector>

#include "dapr/proto/runtime/v1/dapr.grpc.pb.h"
#include "tests/e2e/grpc_helpers.h"
#include "tests/e2e/echo_sidecar_test.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/raw_socket.h"

namespace ringside::e2e {
namespace {

namespace common = dapr::proto::common::v1;
namespace runtime = dapr::proto::runtime::v1;

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
// An empty SETTINGS frame: length 0, type 4, flags 0, stream 0.
const std::string kEmptySettings("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9);

// The error code of the first GOAWAY frame in HTTP/2 server output `bytes`, or -1 if none.
int64_t FirstGoawayError(const std::string& bytes) {
  size_t at = 0;
  while (at + 9 <= bytes.size()) {
    const auto u = [&](size_t i) { return static_cast<uint8_t>(bytes[at + i]); };
    const size_t len = (size_t{u(0)} << 16) | (size_t{u(1)} << 8) | u(2);
    if (at + 9 + len > bytes.size()) break;
    if (u(3) == 0x7 && len >= 8) {
      return (int64_t{u(13)} << 24) | (int64_t{u(14)} << 16) | (int64_t{u(15)} << 8) | u(16);
    }
    at += 9 + len;
  }
  return -1;
}

class GrpcLimitsTest : public EchoSidecarTest {
 protected:
  // InvokeService(a, echo) over `channel`: what a user's gRPC client sees.
  grpc::Status EchoOver(const std::shared_ptr<grpc::Channel>& channel, const std::string& body,
                        std::string* answer) {
    grpc::ClientContext context;
    SetTimeout(&context, 10s);
    runtime::InvokeServiceRequest request;
    request.set_id("a");
    request.mutable_message()->set_method("echo");
    request.mutable_message()->mutable_data()->set_value(body);
    request.mutable_message()->mutable_http_extension()->set_verb(common::HTTPExtension::POST);
    common::InvokeResponse response;
    grpc::Status s = runtime::Dapr::NewStub(channel)->InvokeService(&context, request, &response);
    *answer = response.data().value();
    return s;
  }
  double Metric(std::string_view name) { return ReadMetric(a_.ports.metrics, name).value_or(-1); }

};

TEST_F(GrpcLimitsTest, SlowlorisConnectionsAreClosedAfterTheHeaderTimeoutWhileCallsGoOn) {
  ASSERT_NO_FATAL_FAILURE(Start({"--http-header-timeout", "1s"}));
  const auto started = Clock::now();
  const int silent = ConnectRaw(a_.ports.grpc);
  const int partial = ConnectRaw(a_.ports.grpc);
  const int open_block = ConnectRaw(a_.ports.grpc);
  const int silent_internal = ConnectRaw(a_.ports.internal);  // the peers' port shares the code
  ASSERT_GE(silent_internal, 0);
  ASSERT_GE(silent, 0);
  ASSERT_GE(partial, 0);
  ASSERT_GE(open_block, 0);
  ASSERT_TRUE(SendRaw(partial, kPreface.substr(0, 10)));  // "PRI * HTTP" and nothing more
  // Preface, SETTINGS, then HEADERS on stream 1 with END_STREAM but no END_HEADERS: one byte of
  // header block (0x83, :method POST); the CONTINUATION never comes.
  const std::string headers("\x00\x00\x01\x01\x01\x00\x00\x00\x01\x83", 10);
  ASSERT_TRUE(SendRaw(open_block, std::string(kPreface) + kEmptySettings + headers));

  // While the three hang, a normal grpc++ call is served.
  std::string answer;
  const grpc::Status during = EchoOver(LocalChannel(a_.ports.grpc), "served meanwhile", &answer);
  EXPECT_TRUE(during.ok()) << Describe(during);
  EXPECT_EQ(answer, "served meanwhile");

  const auto deadline = Clock::now() + 15s;
  for (int fd : {silent, partial, open_block, silent_internal}) {
    std::string got;
    EXPECT_TRUE(ReadUntilClosed(fd, deadline, &got)) << "fd " << fd << " still open";
    ::close(fd);
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  std::cout << "four slowloris gRPC connections closed after " << took.count()
            << " ms (header timeout 1000 ms)\n";
  EXPECT_GE(Metric("ringside_grpc_read_timeouts_total"), 4);

  const grpc::Status after = EchoOver(LocalChannel(a_.ports.grpc), "served after", &answer);
  EXPECT_TRUE(after.ok()) << Describe(after);
  EXPECT_EQ(answer, "served after");
}

TEST_F(GrpcLimitsTest, AnIdleConnectionGetsGoawayNoErrorAndTheChannelsNextCallSucceeds) {
  ASSERT_NO_FATAL_FAILURE(Start({"--http-header-timeout", "1s", "--http-idle-timeout", "2s"}));
  // A raw client that completes its preface and then says nothing: it sees GOAWAY(NO_ERROR).
  const int raw = ConnectRaw(a_.ports.grpc);
  ASSERT_GE(raw, 0);
  ASSERT_TRUE(SendRaw(raw, std::string(kPreface) + kEmptySettings));
  const auto started = Clock::now();
  std::string got;
  EXPECT_TRUE(ReadUntilClosed(raw, Clock::now() + 15s, &got)) << "idle connection still open";
  ::close(raw);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  std::cout << "idle raw gRPC connection closed after " << took.count()
            << " ms (idle timeout 2000 ms: GOAWAY, then closed after another; checked every 1000 ms)\n";
  EXPECT_EQ(FirstGoawayError(got), 0) << "no GOAWAY(NO_ERROR) among " << got.size() << " bytes";

  // A grpc++ channel: a call, an idle pause past the timeout, another call on the same channel.
  auto channel = LocalChannel(a_.ports.grpc);
  std::string answer;
  grpc::Status first = EchoOver(channel, "before idle", &answer);
  ASSERT_TRUE(first.ok()) << Describe(first);
  EXPECT_EQ(answer, "before idle");
  // Wait for the sidecar's GOAWAY on this channel's connection (bounded), then call at once:
  // grpc++'s sync client reads the GOAWAY only with its next call.
  const double closed_before = Metric("ringside_grpc_idle_closed_total");
  const auto idle_started = Clock::now();
  for (int i = 0; i < 200 && Metric("ringside_grpc_idle_closed_total") <= closed_before; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  std::cout << "grpc++ channel's connection sent GOAWAY after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - idle_started).count()
            << " ms idle (idle timeout 2000 ms)\n";
  EXPECT_GT(Metric("ringside_grpc_idle_closed_total"), closed_before);
  grpc::Status second = EchoOver(channel, "after idle", &answer);
  EXPECT_TRUE(second.ok()) << Describe(second);
  EXPECT_EQ(answer, "after idle");
}

// client ──HTTP chunked──► a ──CallLocalStream──► b (--app-max-concurrency 1) ──► echo app
TEST(StreamedBodyTimeoutTest, AStalledStreamedBodyGets408AndReleasesTheAppsSlot) {
  TempDir dir;
  uint16_t app_port = 0;
  auto app = StartEchoApp(dir, &app_port);
  ASSERT_TRUE(app.ok()) << app.status();
  auto b = StartSidecar({.app_id = "b", .app_port = app_port, .nr_db = dir.File("nr.db"),
                         .extra_args = {"--app-max-concurrency", "1"}},
                        dir);
  ASSERT_TRUE(b.ok()) << b.status();
  auto a = StartSidecar({.app_id = "a", .nr_db = dir.File("nr.db"),
                         .extra_args = {"--http-body-timeout", "1s"}},
                        dir);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(WaitUntilInvocable(a->ports.http, "b", 15s)) << a->process->LogTail();
  const double streamed_before =
      ReadMetric(a->ports.metrics, "ringside_invoke_streamed_total").value_or(-1);

  BlockingHttpConnection c;
  const auto deadline = Clock::now() + 20s;
  ASSERT_TRUE(c.Connect(a->ports.http, deadline).ok());
  // Chunked: streamed to b at once; one chunk, then silence (the last chunk never comes).
  ASSERT_TRUE(c.SendAll("POST /v1.0/invoke/b/method/echo HTTP/1.1\r\nHost: x\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", deadline).ok());
  const auto started = Clock::now();
  auto r = c.ReadResponse(deadline);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  std::cout << "stalled streamed body answered after " << took.count() << " ms (body timeout 1000 ms)\n";
  ASSERT_TRUE(r.ok()) << r.status() << "\n" << a->process->LogTail();
  EXPECT_EQ(r->status(), 408);
  EXPECT_TRUE(c.WaitForPeerClose(deadline));
  EXPECT_GT(ReadMetric(a->ports.metrics, "ringside_invoke_streamed_total").value_or(-1), streamed_before)
      << "the request was not streamed: this test would not cover the streamed path";
  EXPECT_GE(ReadMetric(a->ports.metrics, "ringside_http_read_timeouts_total").value_or(-1), 1);

  // b's only app slot is free again: the stalled request ended at the app.
  absl::StatusOr<HttpMessage> next;
  for (int attempt = 0; attempt < 20; ++attempt) {
    next = Invoke(a->ports.http, "POST", "b", "echo", "slot released");
    if (next.ok() && next->status() == 200) break;
    std::this_thread::sleep_for(250ms);
  }
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->status(), 200) << next->body << "\n" << b->process->LogTail();
  EXPECT_EQ(next->body, "slot released");
}

}  // namespace
}  // namespace ringside::e2e
