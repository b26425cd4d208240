// The shard-side glue of load balancing: the hash key comes from the header the target's policy
// names (case-insensitive for HTTP/1, exact lower-case key for gRPC metadata), is the same
// stable hash on every sidecar, and is 0 when the policy hashes nothing; a retry may skip the
// 1 s wait only while another instance is neither excluded nor ejected; outcomes map gRPC
// statuses to verdicts on the peer sidecar.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "controlplane/snapshot/snapshot_registry.h"
#include "dataplane/grpc/metadata.h"
#include "dataplane/ingress/http/http_hash_key.h"
#include "dataplane/upstream/call_health.h"
#include "dataplane/upstream/lb/policy_picker.h"
#include "dataplane/upstream/request_hash_key.h"

namespace ringside::upstream {
namespace {

std::vector<snapshot::Instance> pool(const std::string& app, int n) {
  std::vector<snapshot::Instance> out;
  for (int i = 0; i < n; ++i) out.push_back(*snapshot::make_instance(app, "", "10.0.0." + std::to_string(i + 1) + ":1"));
  return out;
}

class CallHealthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    snapshot::LoadBalancing lb;
    lb.apps["b"] = {snapshot::LbPolicy::kMaglev, "x-user"};
    lb.outlier.consecutive_failures = 1;
    std::vector<snapshot::Instance> all = pool("a", 2);
    for (auto& i : pool("b", 3)) all.push_back(i);
    registry_.publish(snapshot::InstanceTable::build(all, false, 1, {}, &lb));
    svc_.snapshots = &registry_;
    svc_.picker = &picker_;
  }
  snapshot::SnapshotRegistry registry_{1};
  lb::PolicyPicker picker_{1};
  invoke::ShardServices svc_;
};

TEST_F(CallHealthTest, HttpHashKeyComesFromTheNamedHeaderCaseInsensitively) {
  http1::RequestHead head;
  const std::string req = "POST /v1.0/invoke/b/method/echo HTTP/1.1\r\nHost: x\r\nX-User: alice\r\n\r\n";
  ASSERT_EQ(http1::parse_request_head(req, 8192, &head), http1::ParseStatus::kComplete);
  EXPECT_EQ(invoke::http_hash_key(&svc_, "b", "", head), snapshot::stable_hash("alice"));
  EXPECT_EQ(invoke::http_hash_key(&svc_, "a", "", head), 0u);  // a is round robin: nothing hashed
  http1::RequestHead without;
  const std::string req2 = "POST /v1.0/invoke/b/method/echo HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(http1::parse_request_head(req2, 8192, &without), http1::ParseStatus::kComplete);
  EXPECT_EQ(invoke::http_hash_key(&svc_, "b", "", without), 0u);  // no header: no key
}

TEST_F(CallHealthTest, GrpcHashKeyComesFromMetadata) {
  const grpc::Metadata md[] = {{"x-other", "1"}, {"x-user", "alice"}};
  auto find = [&](std::string_view name) {
    for (const auto& m : md) {
      if (m.key == name) return m.value;
    }
    return std::string_view();
  };
  EXPECT_EQ(request_hash_key(&svc_, "b", "", find), snapshot::stable_hash("alice"));
  EXPECT_EQ(request_hash_key(&svc_, "unknown", "", find), 0u);
  // Stable across processes: a fixed value, not a per-process seeded hash.
  EXPECT_EQ(snapshot::stable_hash("alice"), snapshot::stable_hash(std::string("ali") + "ce"));
}

TEST_F(CallHealthTest, RetryGoesElsewhereOnlyWhileAnotherInstanceIsUsable) {
  auto b = registry_.current()->find("b", "");
  ASSERT_EQ(b.size(), 3u);
  const uint64_t first[] = {b[0].id};
  EXPECT_TRUE(another_instance_usable(&svc_, "b", "", first));
  // b[1] and b[2] fail once each: ejected (consecutiveFailures 1 in this table).
  for (int i : {1, 2}) {
    note_call_start(&svc_, b[i].id);
    note_call_end(&svc_, b[i].id, outcome_of_grpc_status(14));
  }
  EXPECT_EQ(picker_.outstanding().of(b[1].id), 0u);
  EXPECT_FALSE(another_instance_usable(&svc_, "b", "", first));  // the retry waits 1 s
  const uint64_t none[] = {0};
  EXPECT_TRUE(another_instance_usable(&svc_, "b", "", none));  // b[0] itself is still fine
  EXPECT_FALSE(another_instance_usable(&svc_, "nobody", "", none));
}

TEST(CallOutcome, OnlyUnavailableAndInternalCountAgainstThePeer) {
  EXPECT_EQ(outcome_of_grpc_status(14), lb::CallOutcome::kFailure);
  EXPECT_EQ(outcome_of_grpc_status(13), lb::CallOutcome::kFailure);
  for (int s : {0, 2, 3, 4, 5, 7, 12, 16}) EXPECT_EQ(outcome_of_grpc_status(s), lb::CallOutcome::kSuccess) << s;
}

}  // namespace
}  // namespace ringside::upstream
