// What the etcd resolver stores per sidecar, and where: key
// `<prefix>/<namespace>/<app-id>/<address>`, value an InstanceRecord as protobuf JSON
// (proto/ringside/etcd/v1/instance_record.proto), readable and writable with etcdctl:
//   {"appId":"orders","namespace":"default","address":"10.0.0.5:50002","weight":1}
// The value is authoritative; the key only makes each registration unique and listable by prefix.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ringside::resolvers::etcd {

struct InstanceRecord {
  std::string app_id;         // Dapr app id (required)
  std::string app_namespace;  // namespace ("" in the JSON = "default")
  std::string address;        // host:port of the sidecar's internal gRPC port (required)
  std::string cluster;        // cluster tag; "" = local cluster
  uint32_t weight = 1;        // load-balancing weight, 1..kMaxWeight (0/absent = 1)
  std::string host_name;      // registering machine (informational)
  int http_port = 0;          // Dapr HTTP port (informational)
  int app_port = 0;           // app port (informational)

  friend bool operator==(const InstanceRecord&, const InstanceRecord&) = default;
};

inline constexpr uint32_t kMaxWeight = 1000000;       // larger weights are refused
inline constexpr size_t kMaxRecordBytes = 64 * 1024;  // values larger than this are refused

// Protobuf JSON of the record (camelCase names).
std::string encode_record(const InstanceRecord& record);

// Parses and checks a stored value: JSON object, appId and address non-empty, weight in range,
// unknown fields ignored. Does not check that the address is dialable (the resolver does).
absl::StatusOr<InstanceRecord> decode_record(std::string_view value);

// `<prefix>/<namespace>/<app-id>/<address>`.
std::string registration_key(std::string_view prefix, const InstanceRecord& record);

// The key prefix every registration starts with: `<prefix>/`.
std::string key_prefix(std::string_view prefix);

// etcd's range_end for "every key starting with key_prefix": the prefix with its last byte
// below 0xff incremented (trailing 0xff bytes dropped); "\0" (= to the end) when all are 0xff.
std::string prefix_range_end(std::string_view key_prefix);

}  // namespace ringside::resolvers::etcd
