#include "controlplane/resolvers/etcd/etcd_options.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace ringside::resolvers::etcd {
namespace {

using namespace std::chrono_literals;

std::string error_of(std::string_view yaml) {
  absl::StatusOr<EtcdOptions> o = parse_etcd_options(yaml);
  EXPECT_FALSE(o.ok()) << "accepted: " << yaml;
  return o.ok() ? "" : std::string(o.status().message());
}

TEST(EtcdOptionsTest, DefaultsWithOnlyEndpoints) {
  absl::StatusOr<EtcdOptions> o = parse_etcd_options("endpoints: [127.0.0.1:2379]");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->endpoints, std::vector<std::string>{"127.0.0.1:2379"});
  EXPECT_EQ(o->prefix, "/ringside/instances");
  EXPECT_EQ(o->lease_ttl, 10s);
  EXPECT_EQ(effective_keep_alive_interval(*o), 3333ms);
  EXPECT_EQ(o->dial_timeout, 5s);
  EXPECT_TRUE(o->self_register);
}

TEST(EtcdOptionsTest, EveryKey) {
  absl::StatusOr<EtcdOptions> o = parse_etcd_options(R"(
endpoints: ["http://10.0.0.1:2379/", "etcd-2.example:2379", "[2001:db8::1]:2379"]
prefix: /apps/
leaseTTL: 30s
keepAliveInterval: 5s
dialTimeout: 1s
maxBackoff: 10s
selfRegister: false
)");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->endpoints, (std::vector<std::string>{"10.0.0.1:2379", "etcd-2.example:2379", "[2001:db8::1]:2379"}));
  EXPECT_EQ(o->prefix, "/apps");
  EXPECT_EQ(o->lease_ttl, 30s);
  EXPECT_EQ(effective_keep_alive_interval(*o), 5s);
  EXPECT_EQ(o->dial_timeout, 1s);
  EXPECT_EQ(o->max_backoff, 10s);
  EXPECT_FALSE(o->self_register);
}

TEST(EtcdOptionsTest, CommaSeparatedEndpoints) {
  absl::StatusOr<EtcdOptions> o = parse_etcd_options("endpoints: 127.0.0.1:2379, 127.0.0.1:22379");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->endpoints, (std::vector<std::string>{"127.0.0.1:2379", "127.0.0.1:22379"}));
}

TEST(EtcdOptionsTest, ErrorsNameThePath) {
  EXPECT_EQ(error_of(""), "spec.nameResolution.configuration.endpoints: is required (list of etcd host:port)");
  EXPECT_EQ(error_of("prefix: /x"), "spec.nameResolution.configuration.endpoints: is required (list of etcd host:port)");
  EXPECT_TRUE(absl::StartsWith(error_of("endpoints: [127.0.0.1:2379, nope]"),
                               "spec.nameResolution.configuration.endpoints[1]: \"nope\" is not host:port"));
  EXPECT_TRUE(absl::StartsWith(error_of("endpoints: [https://a:2379]"),
                               "spec.nameResolution.configuration.endpoints[0]: \"https://a:2379\": TLS"));
  EXPECT_TRUE(absl::StartsWith(error_of("endpoints: []"), "spec.nameResolution.configuration.endpoints: must name"));
  EXPECT_TRUE(absl::StartsWith(error_of("endpoints: [a:1]\nleaseTTL: 1500ms"),
                               "spec.nameResolution.configuration.leaseTTL: must be a whole number of seconds"));
  EXPECT_TRUE(absl::StartsWith(error_of("endpoints: [a:1]\nleaseTTL: soon"),
                               "spec.nameResolution.configuration.leaseTTL: \"soon\" is not a duration"));
  EXPECT_TRUE(absl::StartsWith(error_of("endpoints: [a:1]\nleaseTTL: 5s\nkeepAliveInterval: 5s"),
                               "spec.nameResolution.configuration.keepAliveInterval: must be"));
  EXPECT_TRUE(absl::StartsWith(error_of("endpoints: [a:1]\ndialTimeout: 0s"),
                               "spec.nameResolution.configuration.dialTimeout: must be between"));
  EXPECT_TRUE(absl::StartsWith(error_of("endpoints: [a:1]\nprefix: /"), "spec.nameResolution.configuration.prefix:"));
  EXPECT_TRUE(absl::StartsWith(error_of("endpoints: [a:1]\nselfRegister: maybe"),
                               "spec.nameResolution.configuration.selfRegister:"));
  EXPECT_TRUE(absl::StartsWith(error_of("endpoints: [a:1]\nleaseTtl: 5s"),
                               "spec.nameResolution.configuration.leaseTtl: is not an etcd resolver option"));
}

}  // namespace
}  // namespace ringside::resolvers::etcd
