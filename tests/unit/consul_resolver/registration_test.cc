#include "controlplane/resolvers/consul/registration.h"

#include <gtest/gtest.h>

namespace ringside::resolvers::consul {
namespace {

SelfRegistration self_of(std::string host = "10.0.0.5") {
  SelfRegistration s;
  s.app_id = "orders";
  s.app_namespace = "default";
  s.address = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":50002";
  s.http_port = 3500;
  s.grpc_port = 50001;
  s.internal_port = 50002;
  s.app_port = 3000;
  return s;
}

ConsulOptions options_of(std::string_view yaml) {
  absl::StatusOr<ConsulOptions> o = parse_consul_options(yaml, [](std::string_view) { return std::string(); });
  EXPECT_TRUE(o.ok()) << o.status();
  return o.ok() ? *o : ConsulOptions{};
}

TEST(ConsulRegistration, NothingWithoutSelfRegister) {
  absl::StatusOr<std::optional<Registration>> r = build_registration(options_of(""), self_of());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

// Byte for byte what daprd's Go client sends (encoding/json of api.AgentServiceRegistration).
TEST(ConsulRegistration, SelfRegistrationBodyIsDaprds) {
  absl::StatusOr<std::optional<Registration>> r = build_registration(options_of("selfRegister: true"), self_of());
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->service_id, "orders-10.0.0.5-3500");
  EXPECT_EQ((*r)->body.dump(),
            R"({"ID":"orders-10.0.0.5-3500","Name":"orders","Port":3000,"Address":"10.0.0.5",)"
            R"("Meta":{"DAPR_PORT":"50002"},"Check":null,"Checks":[{"CheckID":"daprHealth:orders-10.0.0.5-3500",)"
            R"("Name":"Dapr Health Status","Interval":"15s","HTTP":"http://10.0.0.5:3500/v1.0/healthz?appid=orders"}]})");
}

TEST(ConsulRegistration, Ipv6HostIsBracketedInTheCheckOnly) {
  absl::StatusOr<std::optional<Registration>> r = build_registration(options_of("selfRegister: true"), self_of("fd00::5"));
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->service_id, "orders-fd00::5-3500");
  EXPECT_EQ((*r)->body["Address"], "fd00::5");
  EXPECT_EQ((*r)->body["Checks"][0]["HTTP"], "http://[fd00::5]:3500/v1.0/healthz?appid=orders");
}

TEST(ConsulRegistration, ChecksTagsMetaAndMetaKeyFromTheConfiguration) {
  absl::StatusOr<std::optional<Registration>> r = build_registration(
      options_of("selfRegister: true\ndaprPortMetaKey: SIDECAR\ntags: [dapr]\nmeta: {zone: a}\n"
                 "checks:\n  - name: TTL\n    ttl: 30s\n"),
      self_of());
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->body.dump(),
            R"({"ID":"orders-10.0.0.5-3500","Name":"orders","Tags":["dapr"],"Port":3000,"Address":"10.0.0.5",)"
            R"("Meta":{"SIDECAR":"50002","zone":"a"},"Check":null,"Checks":[{"Name":"TTL","TTL":"30s"}]})");
}

TEST(ConsulRegistration, NoAppPortLeavesPortOut) {
  SelfRegistration s = self_of();
  s.app_port = 0;
  absl::StatusOr<std::optional<Registration>> r = build_registration(options_of("selfRegister: true"), s);
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_FALSE((*r)->body.contains("Port"));  // omitempty
}

TEST(ConsulRegistration, AdvancedRegistrationIsSentAsGivenPlusTheDaprPort) {
  absl::StatusOr<std::optional<Registration>> r = build_registration(
      options_of("selfRegister: true\ntags: [ignored]\nadvancedRegistration:\n  name: orders\n  id: orders-1\n"
                 "  meta: {team: x}\n  check: {ttl: 10s}\n"),
      self_of());
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->service_id, "orders-1");
  EXPECT_EQ((*r)->body.dump(),
            R"({"ID":"orders-1","Name":"orders","Meta":{"DAPR_PORT":"50002","team":"x"},"Check":{"TTL":"10s"},)"
            R"("Checks":null})");
}

}  // namespace
}  // namespace ringside::resolvers::consul
