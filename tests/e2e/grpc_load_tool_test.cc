// ringside-grpc-load's command line: what its user types, and what it refuses.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tools/grpc_load/grpc_load_options.h"

namespace ringside::grpc_load {
namespace {

absl::StatusOr<GrpcLoadOptions> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "ringside-grpc-load");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return ParseGrpcLoadOptions(static_cast<int>(argv.size()), argv.data());
}

TEST(GrpcLoadToolTest, DefaultsAreOneThousandUnaryCallsOfOneKibOnOneChannel) {
  auto o = Parse({"--target", "127.0.0.1:50001"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->target, "127.0.0.1:50001");
  EXPECT_EQ(o->port, 50001);
  EXPECT_EQ(o->mode, CallMode::kUnary);
  EXPECT_EQ(o->app_id, "");
  EXPECT_EQ(o->requests, 1000u);
  EXPECT_EQ(o->channels, 1u);
  EXPECT_EQ(o->body_size, 1024u);
  EXPECT_EQ(o->timeout, std::chrono::milliseconds(60'000));
}

TEST(GrpcLoadToolTest, ParsesAProxiedUnaryRun) {
  auto o = Parse({"--target", "localhost:3501", "--mode", "unary", "--app-id", "b", "-n", "5000", "-c", "16",
                  "--body-size", "4Ki", "--timeout", "2.5"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->port, 3501);
  EXPECT_EQ(o->app_id, "b");
  EXPECT_EQ(o->requests, 5000u);
  EXPECT_EQ(o->channels, 16u);
  EXPECT_EQ(o->body_size, 4096u);
  EXPECT_EQ(o->timeout, std::chrono::milliseconds(2500));
}

TEST(GrpcLoadToolTest, InvokeServiceTakesTheTargetAppFromAppId) {
  auto o = Parse({"--target", "127.0.0.1:1", "--mode", "invoke-service", "--app-id", "orders"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->mode, CallMode::kInvokeService);
  EXPECT_EQ(o->app_id, "orders");
  auto no_id = Parse({"--target", "127.0.0.1:1", "--mode", "invoke-service"});
  ASSERT_FALSE(no_id.ok());
  EXPECT_NE(std::string(no_id.status().message()).find("--app-id"), std::string::npos);
}

TEST(GrpcLoadToolTest, ClientStreamDefaultsToFiveCallsOf64MiBIn64KiBMessages) {
  auto d = Parse({"--target", "127.0.0.1:1", "--mode", "client-stream"});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->mode, CallMode::kClientStream);
  EXPECT_EQ(d->requests, 5u);
  EXPECT_EQ(d->total_bytes, 64u << 20);
  EXPECT_EQ(d->message_size, 64u << 10);
  auto o = Parse({"--target", "127.0.0.1:1", "--mode", "client-stream", "-n", "3", "--total-bytes", "1Mi",
                  "--message-size", "1000"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->requests, 3u);
  EXPECT_EQ(o->total_bytes, 1u << 20);
  EXPECT_EQ(o->message_size, 1000u);
}

TEST(GrpcLoadToolTest, RejectsMalformedCommandLinesNamingTheFlag) {
  const std::vector<std::vector<std::string>> bad = {
      {},                                                               // no --target
      {"--target", "example.com:80"},                                   // not loopback
      {"--target", "127.0.0.1"},                                        // no port
      {"--target", "127.0.0.1:0"},                                      // port 0
      {"--target", "127.0.0.1:70000"},                                  // port out of range
      {"--target", "127.0.0.1:1", "--mode", "bidi"},                    // unknown mode
      {"--target", "127.0.0.1:1", "-n", "0"},                           // no requests
      {"--target", "127.0.0.1:1", "-c", "x"},                           // not a number
      {"--target", "127.0.0.1:1", "-c", "0"},                           // no channels
      {"--target", "127.0.0.1:1", "--body-size", "-1"},                 // negative size
      {"--target", "127.0.0.1:1", "--timeout", "0"},                    // no time
      {"--target", "127.0.0.1:1", "--app-id", ""},                      // empty id
      {"--target", "127.0.0.1:1", "--total-bytes", "1Mi"},              // stream flag, unary mode
      {"--target", "127.0.0.1:1", "--mode", "client-stream", "--body-size", "1"},  // unary flag
      {"--target", "127.0.0.1:1", "--mode", "client-stream", "--message-size", "0"},
      {"--target", "127.0.0.1:1", "--bogus", "1"},                      // unknown flag
      {"--target"},                                                     // missing value
  };
  for (const auto& args : bad) {
    auto o = Parse(args);
    std::string line;
    for (const auto& a : args) line += a + " ";
    EXPECT_FALSE(o.ok()) << line;
  }
  auto o = Parse({"--target", "127.0.0.1:1", "-c", "x"});
  EXPECT_NE(std::string(o.status().message()).find("-c"), std::string::npos);
  auto unknown = Parse({"--target", "127.0.0.1:1", "--bogus", "1"});
  EXPECT_NE(std::string(unknown.status().message()).find("--bogus"), std::string::npos);
}

}  // namespace
}  // namespace ringside::grpc_load
