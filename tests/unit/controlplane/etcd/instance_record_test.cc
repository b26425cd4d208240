#include "controlplane/resolvers/etcd/instance_record.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace ringside::resolvers::etcd {
namespace {

TEST(InstanceRecordTest, RoundTrip) {
  InstanceRecord r;
  r.app_id = "orders";
  r.app_namespace = "prod";
  r.address = "[2001:db8::5]:50002";
  r.cluster = "east";
  r.weight = 7;
  r.host_name = "node-1";
  r.http_port = 3500;
  r.app_port = 8080;
  std::string json = encode_record(r);
  EXPECT_TRUE(absl::StrContains(json, "\"appId\":\"orders\"")) << json;
  absl::StatusOr<InstanceRecord> back = decode_record(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, r);
}

TEST(InstanceRecordTest, DefaultsAndUnknownFields) {
  absl::StatusOr<InstanceRecord> r = decode_record(R"({"appId":"a","address":"h:1","extra":{"x":[1]}})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->app_namespace, "default");
  EXPECT_EQ(r->weight, 1u);
}

TEST(InstanceRecordTest, RejectsUnusableValues) {
  EXPECT_FALSE(decode_record("").ok());
  EXPECT_FALSE(decode_record("[]").ok());
  EXPECT_FALSE(decode_record("not json").ok());
  EXPECT_FALSE(decode_record(R"({"address":"h:1"})").ok());
  EXPECT_FALSE(decode_record(R"({"appId":"a"})").ok());
  EXPECT_FALSE(decode_record(R"({"appId":"a","address":"h:1","weight":1000001})").ok());
  EXPECT_FALSE(decode_record(R"({"appId":"a","address":"h:1","weight":-1})").ok());
  EXPECT_FALSE(decode_record(std::string(kMaxRecordBytes + 1, ' ')).ok());
}

TEST(InstanceRecordTest, KeysAndRanges) {
  InstanceRecord r;
  r.app_id = "orders";
  r.app_namespace = "prod";
  r.address = "10.0.0.5:50002";
  EXPECT_EQ(registration_key("/ringside/instances", r), "/ringside/instances/prod/orders/10.0.0.5:50002");
  EXPECT_EQ(key_prefix("/p"), "/p/");
  EXPECT_EQ(prefix_range_end("/p/"), "/p0");
  EXPECT_EQ(prefix_range_end(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_range_end(std::string("\xff\xff", 2)), std::string(1, '\0'));
}

}  // namespace
}  // namespace ringside::resolvers::etcd
