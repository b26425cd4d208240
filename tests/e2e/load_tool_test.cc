// ringside-load's command line and latency summary: what its user types and what it prints.
#include <gtest/gtest.h>

#include "tools/load/latency_summary.h"
#include "tools/load/load_options.h"

namespace ringside::load {
namespace {

absl::StatusOr<LoadOptions> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "ringside-load");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return ParseLoadOptions(static_cast<int>(argv.size()), argv.data());
}

TEST(LoadToolTest, ParsesTheDocumentedCommandLine) {
  auto o = Parse({"--url", "http://127.0.0.1:3500/v1.0/invoke/b/method/echo?x=1", "-n", "5000", "-c", "16",
                  "--body-size", "1024", "--timeout", "2.5", "--header", "X-A: b c"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->port, 3500);
  EXPECT_EQ(o->target, "/v1.0/invoke/b/method/echo?x=1");
  EXPECT_EQ(o->requests, 5000u);
  EXPECT_EQ(o->connections, 16u);
  EXPECT_EQ(o->body_size, 1024u);
  EXPECT_EQ(o->method, "POST");  // a body implies POST unless --method says otherwise
  EXPECT_EQ(o->timeout, std::chrono::milliseconds(2500));
  ASSERT_EQ(o->headers.size(), 1u);
  EXPECT_EQ(o->headers[0].second, "b c");
}

TEST(LoadToolTest, MethodFlagWinsAndDefaultsAreGet) {
  auto o = Parse({"--url", "http://localhost:8080", "--method", "put"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->method, "PUT");
  EXPECT_EQ(o->target, "/");
  auto d = Parse({"--url", "http://127.0.0.1:1/"});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->method, "GET");
}

TEST(LoadToolTest, RejectsMalformedCommandLinesNamingTheFlag) {
  const std::vector<std::vector<std::string>> bad = {
      {},                                                     // no --url
      {"--url", "https://127.0.0.1:3500/"},                   // not http
      {"--url", "http://example.com:80/"},                    // not loopback
      {"--url", "http://127.0.0.1/"},                         // no port
      {"--url", "http://127.0.0.1:70000/"},                   // port out of range
      {"--url", "http://127.0.0.1:1/", "-n", "0"},            // no requests
      {"--url", "http://127.0.0.1:1/", "-c", "x"},            // not a number
      {"--url", "http://127.0.0.1:1/", "--timeout", "-1"},    // negative time
      {"--url", "http://127.0.0.1:1/", "--header", "novalue"},  // no colon
      {"--url", "http://127.0.0.1:1/", "--bogus", "1"},       // unknown flag
      {"--url"},                                              // missing value
  };
  for (const auto& args : bad) {
    auto o = Parse(args);
    EXPECT_FALSE(o.ok()) << (args.size() > 1 ? args[1] : "(none)");
  }
  auto o = Parse({"--url", "http://127.0.0.1:1/", "-c", "x"});
  EXPECT_NE(std::string(o.status().message()).find("-c"), std::string::npos);
}

TEST(LoadToolTest, PercentilesUseNearestRank) {
  std::vector<uint64_t> samples;
  for (uint64_t i = 100; i >= 1; --i) samples.push_back(i);
  const LatencySummary s = Summarize(samples);
  EXPECT_EQ(s.count, 100u);
  EXPECT_EQ(s.p50_us, 50u);
  EXPECT_EQ(s.p90_us, 90u);
  EXPECT_EQ(s.p99_us, 99u);
  EXPECT_EQ(s.max_us, 100u);
  std::vector<uint64_t> none;
  EXPECT_EQ(Summarize(none).count, 0u);
  std::vector<uint64_t> one = {7};
  EXPECT_EQ(Summarize(one).p99_us, 7u);
}

}  // namespace
}  // namespace ringside::load
