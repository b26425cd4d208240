#include "controlplane/resolvers/consul/consul_options.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "absl/strings/match.h"

namespace ringside::resolvers::consul {
namespace {

EnvLookup no_env() {
  return [](std::string_view) { return std::string(); };
}

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](std::string_view k) {
    auto it = vars.find(std::string(k));
    return it == vars.end() ? std::string() : it->second;
  };
}

std::string error_of(std::string_view yaml) {
  absl::StatusOr<ConsulOptions> o = parse_consul_options(yaml, no_env());
  return o.ok() ? std::string("(ok)") : std::string(o.status().message());
}

TEST(ConsulOptions, DefaultsAreDaprds) {
  absl::StatusOr<ConsulOptions> o = parse_consul_options("", no_env());
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->client.address, "127.0.0.1:8500");
  EXPECT_EQ(o->dapr_port_meta_key, "DAPR_PORT");
  EXPECT_FALSE(o->self_register);
  EXPECT_FALSE(o->self_deregister);
  EXPECT_FALSE(o->use_cache);
  EXPECT_FALSE(o->checks.has_value());
  EXPECT_FALSE(o->advanced_registration.has_value());
  // No queryOptions = daprd's QueryOptions{UseCache: true} = ?cached.
  ASSERT_EQ(o->query.params.size(), 1u);
  EXPECT_EQ(o->query.params[0].first, "cached");
}

TEST(ConsulOptions, KeysMatchIgnoringCaseAsGoJson) {
  absl::StatusOr<ConsulOptions> o = parse_consul_options(
      "SelfRegister: true\nselfderegister: \"true\"\nUSECACHE: true\ndaprPortMetaKey: MY_PORT\n"
      "client:\n  Address: 10.1.2.3:8501\n  token: t0k\n  Datacenter: dc2\nsomethingElse: 1\n",
      no_env());
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->self_register);
  EXPECT_TRUE(o->self_deregister);
  EXPECT_TRUE(o->use_cache);
  EXPECT_EQ(o->dapr_port_meta_key, "MY_PORT");
  EXPECT_EQ(o->client.address, "10.1.2.3:8501");
  EXPECT_EQ(o->client.token, "t0k");
  EXPECT_EQ(o->client.datacenter, "dc2");
}

TEST(ConsulOptions, HttpsIsAClearConfigErrorNamingThePath) {
  EXPECT_EQ(error_of("client:\n  scheme: https\n"),
            "spec.nameResolution.configuration.client.scheme: https is not supported by ringside's consul "
            "resolver yet (use http, e.g. a local agent on 127.0.0.1:8500)");
  EXPECT_TRUE(absl::StartsWith(error_of("client:\n  address: https://consul:8501\n"),
                               "spec.nameResolution.configuration.client.address: https is not supported"));
  EXPECT_TRUE(absl::StartsWith(error_of("client:\n  address: unix:///run/consul.sock\n"),
                               "spec.nameResolution.configuration.client.address: \"unix:///run/consul.sock\": "
                               "scheme \"unix\" is not supported"));
  absl::StatusOr<ConsulOptions> env = parse_consul_options("", env_of({{"CONSUL_HTTP_SSL", "true"}}));
  ASSERT_FALSE(env.ok());
  EXPECT_TRUE(absl::StartsWith(env.status().message(), "CONSUL_HTTP_SSL: https is not supported"));
}

TEST(ConsulOptions, BadValuesNameThePath) {
  EXPECT_EQ(error_of("selfRegister: maybe\n"),
            "spec.nameResolution.configuration.selfRegister: \"maybe\" is not a boolean");
  EXPECT_EQ(error_of("tags: dapr\n"), "spec.nameResolution.configuration.tags: must be a list");
  EXPECT_EQ(error_of("checks:\n  - name: x\n    interval: [1]\n"),
            "spec.nameResolution.configuration.checks[0].interval: must be a single value");
  EXPECT_EQ(error_of("advancedRegistration:\n  port: eighty\n"),
            "spec.nameResolution.configuration.advancedRegistration.port: \"eighty\" is not an integer in "
            "[-9007199254740992, 9007199254740992]");
  EXPECT_EQ(error_of("queryOptions:\n  waitTime: soon\n"),
            "spec.nameResolution.configuration.queryOptions.waitTime: \"soon\" is not a duration (e.g. 5s, 500ms, 1m)");
  EXPECT_EQ(error_of("ringside:\n  retryInitial: 0s\n"),
            "spec.nameResolution.configuration.ringside.retryInitial: must be positive");
  EXPECT_EQ(error_of("- a\n"), "spec.nameResolution.configuration: must be a map");
}

TEST(ConsulOptions, EnvironmentAsTheGoClientReadsIt) {
  absl::StatusOr<ConsulOptions> o = parse_consul_options(
      "", env_of({{"CONSUL_HTTP_ADDR", "http://10.9.9.9:8500/consul"}, {"CONSUL_HTTP_TOKEN", "envtok"},
                  {"CONSUL_HTTP_AUTH", "user:pa:ss"}}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->client.address, "10.9.9.9:8500");
  EXPECT_EQ(o->client.path_prefix, "/consul");
  EXPECT_EQ(o->client.token, "envtok");
  EXPECT_TRUE(o->client.basic_auth);
  EXPECT_EQ(o->client.username, "user");
  EXPECT_EQ(o->client.password, "pa:ss");
  // Explicit configuration wins over the environment.
  o = parse_consul_options("client:\n  address: 127.0.0.1:9999\n  token: cfg\n",
                           env_of({{"CONSUL_HTTP_ADDR", "10.9.9.9:8500"}, {"CONSUL_HTTP_TOKEN", "envtok"}}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->client.address, "127.0.0.1:9999");
  EXPECT_EQ(o->client.token, "cfg");
}

TEST(ConsulOptions, TokenFileWinsOverToken) {
  std::string path = ::testing::TempDir() + "/consul_token";
  std::ofstream(path) << "  filetok\n";
  absl::StatusOr<ConsulOptions> o =
      parse_consul_options("client:\n  token: cfg\n  tokenFile: " + path + "\n", no_env());
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->client.token, "filetok");
  EXPECT_TRUE(absl::StartsWith(error_of("client:\n  tokenFile: /nonexistent/token\n"),
                               "spec.nameResolution.configuration.client.tokenFile: \"/nonexistent/token\" cannot be read"));
}

TEST(ConsulOptions, QueryOptionsBecomeTheGoClientsParameters) {
  absl::StatusOr<ConsulOptions> o = parse_consul_options(
      "queryOptions:\n  datacenter: dc1\n  allowStale: true\n  useCache: true\n  maxAge: 30s\n"
      "  token: qtok\n  nodeMeta:\n    rack: r1\n  waitTime: 2000000000\n  filter: Service.Tags contains \"v1\"\n",
      no_env());
  ASSERT_TRUE(o.ok()) << o.status();
  std::map<std::string, std::string> params(o->query.params.begin(), o->query.params.end());
  EXPECT_EQ(params.at("dc"), "dc1");
  EXPECT_EQ(params.count("stale"), 1u);
  EXPECT_EQ(params.count("cached"), 1u);
  EXPECT_EQ(params.at("node-meta"), "rack:r1");
  EXPECT_EQ(params.at("filter"), "Service.Tags contains \"v1\"");
  EXPECT_EQ(o->query.cache_control, "max-age=30");
  EXPECT_EQ(o->query.token, "qtok");
  EXPECT_EQ(o->query.wait_time, std::chrono::seconds(2));  // integer nanoseconds, as daprd decodes it
  // useCache: false in queryOptions drops ?cached.
  o = parse_consul_options("queryOptions:\n  useCache: false\n", no_env());
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->query.params.empty());
}

TEST(ConsulOptions, ChecksTagsMetaAndAdvancedRegistrationUseGoFieldNames) {
  absl::StatusOr<ConsulOptions> o = parse_consul_options(
      "checks:\n  - name: App\n    checkID: app:1\n    interval: 5s\n    http: http://127.0.0.1:3000/health\n"
      "    args: [a, b]\n    header:\n      X-A: [1]\n"
      "tags: [dapr, v1]\nmeta:\n  z: last\n  a: first\n"
      "advancedRegistration:\n  name: orders\n  port: 3000\n  weights: {passing: 3, warning: 1}\n"
      "  connect: {native: true}\n",
      no_env());
  ASSERT_TRUE(o.ok()) << o.status();
  ASSERT_TRUE(o->checks.has_value());
  EXPECT_EQ(o->checks->dump(),
            R"([{"CheckID":"app:1","Name":"App","ScriptArgs":["a","b"],"Interval":"5s",)"
            R"("HTTP":"http://127.0.0.1:3000/health","Header":{"X-A":["1"]}}])");
  EXPECT_EQ(o->tags.dump(), R"(["dapr","v1"])");
  ASSERT_TRUE(o->advanced_registration.has_value());
  EXPECT_EQ(o->advanced_registration->dump(),
            R"({"Name":"orders","Port":3000,"Weights":{"Passing":3,"Warning":1},"Check":null,"Checks":null,)"
            R"("Connect":{"Native":true}})");
}

}  // namespace
}  // namespace ringside::resolvers::consul
