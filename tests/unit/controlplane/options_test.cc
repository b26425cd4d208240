#include "controlplane/config/options.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace ringside::config {
namespace {

// Runs parse_flags over {"ringsided", args...}.
struct Parsed {
  FlagsOutcome outcome;  // result
  Options options;       // filled options
  std::string error;     // message on kUsageError
};

Parsed parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv{"ringsided"};
  argv.insert(argv.end(), args.begin(), args.end());
  Parsed p;
  p.outcome = parse_flags(static_cast<int>(argv.size()), argv.data(), &p.options, &p.error);
  return p;
}

class OptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {"NAMESPACE", "DAPR_HOST_IP", "APP_API_TOKEN", "DAPR_API_TOKEN"}) unsetenv(v);
  }
};

TEST_F(OptionsTest, DefaultsMatchDaprd) {
  Parsed p = parse({"--app-id", "a"});
  ASSERT_EQ(p.outcome, FlagsOutcome::kRun) << p.error;
  const Options& o = p.options;
  EXPECT_EQ(o.app_id, "a");
  EXPECT_FALSE(o.app_port.has_value());
  EXPECT_EQ(o.app_protocol, "http");
  EXPECT_EQ(o.app_channel_address, "127.0.0.1");
  EXPECT_EQ(o.app_max_concurrency, -1);
  EXPECT_EQ(o.dapr_http_port, 3500);
  EXPECT_EQ(o.dapr_grpc_port, 50001);
  EXPECT_EQ(o.dapr_internal_grpc_port, 0);
  EXPECT_EQ(o.dapr_listen_addresses, std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(o.metrics_port, 9090);
  EXPECT_EQ(o.metrics_listen_address, "0.0.0.0");
  EXPECT_TRUE(o.enable_metrics);
  EXPECT_EQ(o.max_body_size, 4u << 20);
  EXPECT_EQ(o.read_buffer_size, 4u << 10);
  EXPECT_EQ(o.log_level, "info");
  EXPECT_EQ(o.graceful_shutdown, std::chrono::seconds(5));
  EXPECT_EQ(o.app_namespace, "default");
  EXPECT_EQ(o.cpus, allowed_cpus());
  EXPECT_EQ(o.shards, static_cast<int>(allowed_cpus().size()));
}

TEST_F(OptionsTest, AcceptsBothDashStylesAndEqualsForm) {
  Parsed p = parse({"-app-id=a", "--app-port", "8080", "-dapr-http-port", "3600", "--max-body-size=512Ki",
                    "--app-protocol", "GRPC", "--dapr-listen-addresses", "127.0.0.1, [::1]"});
  ASSERT_EQ(p.outcome, FlagsOutcome::kRun) << p.error;
  EXPECT_EQ(p.options.app_port, 8080);
  EXPECT_EQ(p.options.dapr_http_port, 3600);
  EXPECT_EQ(p.options.max_body_size, 512u << 10);
  EXPECT_EQ(p.options.app_protocol, "grpc");
  EXPECT_EQ(p.options.dapr_listen_addresses, (std::vector<std::string>{"127.0.0.1", "[::1]"}));
  EXPECT_TRUE(p.options.flag_given("max-body-size"));
  EXPECT_FALSE(p.options.flag_given("metrics-port"));
}

TEST_F(OptionsTest, BooleanForms) {
  EXPECT_TRUE(parse({"--app-id", "a", "--log-as-json"}).options.log_as_json);
  EXPECT_TRUE(parse({"--app-id", "a", "--log-as-json=true"}).options.log_as_json);
  EXPECT_FALSE(parse({"--app-id", "a", "--enable-metrics=false"}).options.enable_metrics);
  // A bare boolean does not swallow the next flag.
  Parsed p = parse({"--app-id", "a", "--log-as-json", "--dapr-http-port", "1"});
  EXPECT_EQ(p.outcome, FlagsOutcome::kRun) << p.error;
  EXPECT_EQ(p.options.dapr_http_port, 1);
  Parsed bad = parse({"--app-id", "a", "--log-as-json=maybe"});
  EXPECT_EQ(bad.outcome, FlagsOutcome::kUsageError);
  EXPECT_EQ(bad.error, "--log-as-json: \"maybe\" is not a boolean (true or false)");
}

TEST_F(OptionsTest, ErrorsNameTheFlagAndTheProblem) {
  struct Case {
    std::vector<const char*> args;  // after the program name
    std::string error;              // expected message
  };
  const std::vector<Case> cases = {
      {{"--app-id", "a", "--dapr-http-port", "abc"}, "--dapr-http-port: \"abc\" is not a port number"},
      {{"--app-id", "a", "--dapr-http-port", "70000"}, "--dapr-http-port: \"70000\" is not a port number"},
      {{"--app-id", "a.b"}, "--app-id: parameter app-id cannot contain dots"},
      {{"--app-port", "1"}, "--app-id: is required"},
      {{"--app-id", "a", "--app-protocol", "tcp"}, "--app-protocol: \"tcp\" is not one of http, https, h2c, grpc, grpcs"},
      {{"--app-id", "a", "--mode", "kubernetes"}, "--mode: kubernetes mode is not supported by ringside; use standalone"},
      {{"--app-id", "a", "--max-body-size", "4MB"}, "--max-body-size: \"4MB\" is not a size (e.g. 4Mi, 512Ki, 1M, 1048576)"},
      {{"--app-id", "a", "--log-level", "verbose"}, "--log-level: \"verbose\" is not one of debug, info, warn, error, fatal"},
      {{"--app-id", "a", "--no-such-flag"}, "--no-such-flag: unknown flag (see --help)"},
      {{"--app-id", "a", "--config"}, "--config: needs a value"},
      {{"--app-id", "a", "stray"}, "\"stray\": unexpected argument (flags start with --)"},
      {{"--app-id", "a", "--app-port", "3500"}, "--app-port: 3500 is also used by the Dapr HTTP or gRPC API"},
      {{"--app-id", "a", "--shards", "0"}, "--shards: \"0\" is not an integer >= 1"},
      {{"--app-id", "a", "--cpus", "1-0"}, "--cpus: \"1-0\" is not a CPU list (e.g. 0-1 or 0,2,4-5)"},
  };
  for (const Case& c : cases) {
    std::vector<const char*> argv{"ringsided"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    Options o;
    std::string error;
    EXPECT_EQ(parse_flags(static_cast<int>(argv.size()), argv.data(), &o, &error), FlagsOutcome::kUsageError)
        << c.error;
    EXPECT_EQ(error, c.error);
  }
}

TEST_F(OptionsTest, EmptyAppPortMeansNoApp) {
  Parsed p = parse({"--app-id", "a", "--app-port", ""});
  ASSERT_EQ(p.outcome, FlagsOutcome::kRun) << p.error;
  EXPECT_FALSE(p.options.app_port.has_value());
}

TEST_F(OptionsTest, CpusMustBeAllowed) {
  Parsed p = parse({"--app-id", "a", "--cpus", "4000"});
  EXPECT_EQ(p.outcome, FlagsOutcome::kUsageError);
  EXPECT_NE(p.error.find("--cpus: CPU 4000 is not in this process's allowed set"), std::string::npos) << p.error;
}

TEST_F(OptionsTest, CpusAndShards) {
  const std::vector<int> allowed = allowed_cpus();
  ASSERT_FALSE(allowed.empty());
  const std::string first = std::to_string(allowed[0]);
  Parsed p = parse({"--app-id", "a", "--cpus", first.c_str()});
  ASSERT_EQ(p.outcome, FlagsOutcome::kRun) << p.error;
  EXPECT_EQ(p.options.cpus, std::vector<int>{allowed[0]});
  EXPECT_EQ(p.options.shards, 1);

  Parsed both = parse({"--app-id", "a", "--cpus", first.c_str(), "--shards", "1"});
  EXPECT_EQ(both.outcome, FlagsOutcome::kRun) << both.error;
  Parsed mismatch = parse({"--app-id", "a", "--cpus", first.c_str(), "--shards", "2"});
  EXPECT_EQ(mismatch.outcome, FlagsOutcome::kUsageError);
  EXPECT_NE(mismatch.error.find("--shards: 2 does not match"), std::string::npos) << mismatch.error;

  // More shards than CPUs: spread round-robin over the allowed set.
  Parsed many = parse({"--app-id", "a", "--shards", "5"});
  ASSERT_EQ(many.outcome, FlagsOutcome::kRun) << many.error;
  EXPECT_EQ(many.options.shards, 5);
  ASSERT_EQ(many.options.cpus.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(many.options.cpus[i], allowed[i % allowed.size()]);
}

TEST_F(OptionsTest, ReadsEnvironment) {
  setenv("NAMESPACE", "prod", 1);
  setenv("DAPR_HOST_IP", "10.0.0.5", 1);
  setenv("APP_API_TOKEN", "app-secret", 1);
  setenv("DAPR_API_TOKEN", "api-secret", 1);
  Parsed p = parse({"--app-id", "a"});
  ASSERT_EQ(p.outcome, FlagsOutcome::kRun) << p.error;
  EXPECT_EQ(p.options.app_namespace, "prod");
  EXPECT_EQ(p.options.host_ip, "10.0.0.5");
  EXPECT_EQ(p.options.app_api_token, "app-secret");
  EXPECT_EQ(p.options.dapr_api_token, "api-secret");
}

TEST_F(OptionsTest, MtlsFlags) {
  // Whether the three files are there is checked once the Configuration had its say
  // (mtls_config_test.cc), so a file may give them.
  Parsed p = parse({"--app-id", "a", "--enable-mtls", "--tls-cert-file", "c.pem", "--tls-key-file", "k.pem",
             "--tls-trust-anchors-file", "ca.pem", "--tls-reload-interval", "250ms"});
  ASSERT_EQ(p.outcome, FlagsOutcome::kRun) << p.error;
  EXPECT_TRUE(p.options.enable_mtls);
  EXPECT_EQ(p.options.tls_trust_anchors_file, "ca.pem");
  EXPECT_EQ(p.options.tls_reload_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(parse({"--app-id", "a", "--tls-reload-interval", "0"}).outcome, FlagsOutcome::kUsageError);
}

TEST_F(OptionsTest, IgnoredDaprdFlagsAreAccepted) {
  Parsed p = parse({"--app-id", "a", "--sentry-address", "x:1", "--resources-path", "./c",
                    "--enable-app-health-check", "--app-health-probe-interval", "3"});
  ASSERT_EQ(p.outcome, FlagsOutcome::kRun) << p.error;
  EXPECT_TRUE(p.options.enable_app_health_check);
  EXPECT_EQ(p.options.app_health_probe_interval, std::chrono::seconds(3));
}

TEST_F(OptionsTest, DeprecatedSizesApplyOnlyWithoutTheNewFlag) {
  EXPECT_EQ(parse({"--app-id", "a", "--dapr-http-max-request-size", "8"}).options.max_body_size, 8u << 20);
  EXPECT_EQ(parse({"--app-id", "a", "--max-body-size", "1Mi", "--dapr-http-max-request-size", "8"}).options.max_body_size,
            1u << 20);
}

TEST_F(OptionsTest, HelpListsEveryFlagWithDefault) {
  const std::string help = usage_text();
  for (const char* flag : {"--app-id", "--app-port", "--app-protocol", "--dapr-http-port", "--dapr-grpc-port",
                           "--dapr-internal-grpc-port", "--metrics-port", "--max-body-size", "--cpus", "--shards",
                           "--log-level", "--mode", "--config", "--enable-app-health-check"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  }
  EXPECT_NE(help.find("(default 3500)"), std::string::npos);
  EXPECT_NE(help.find("(default 4Mi)"), std::string::npos);
  EXPECT_EQ(parse({"--help"}).outcome, FlagsOutcome::kExitOk);
  EXPECT_EQ(parse({"-version"}).outcome, FlagsOutcome::kExitOk);
}

}  // namespace
}  // namespace ringside::config
