#include "controlplane/resolvers/etcd/instance_record.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "ringside/etcd/v1/instance_record.pb.h"

namespace ringside::resolvers::etcd {

std::string encode_record(const InstanceRecord& record) {
  ringside::etcd::v1::InstanceRecord m;
  m.set_app_id(record.app_id);
  m.set_namespace_(record.app_namespace);
  m.set_address(record.address);
  m.set_cluster(record.cluster);
  m.set_weight(record.weight);
  m.set_host_name(record.host_name);
  m.set_http_port(record.http_port);
  m.set_app_port(record.app_port);
  std::string out;
  // Cannot fail for a message without Any/Struct fields.
  (void)google::protobuf::util::MessageToJsonString(m, &out);
  return out;
}

absl::StatusOr<InstanceRecord> decode_record(std::string_view value) {
  if (value.size() > kMaxRecordBytes)
    return absl::InvalidArgumentError(absl::StrCat("value of ", value.size(), " bytes exceeds ", kMaxRecordBytes));
  ringside::etcd::v1::InstanceRecord m;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // newer writers may add fields
  google::protobuf::util::Status s = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(value.data(), value.size()), &m, options);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("value is not an instance record: ", s.message().as_string()));
  if (m.app_id().empty()) return absl::InvalidArgumentError("value has no appId");
  if (m.address().empty()) return absl::InvalidArgumentError("value has no address");
  if (m.weight() > kMaxWeight) return absl::InvalidArgumentError(absl::StrCat("weight ", m.weight(), " exceeds ", kMaxWeight));
  InstanceRecord r;
  r.app_id = m.app_id();
  r.app_namespace = m.namespace_().empty() ? "default" : m.namespace_();
  r.address = m.address();
  r.cluster = m.cluster();
  r.weight = m.weight() == 0 ? 1 : m.weight();
  r.host_name = m.host_name();
  r.http_port = m.http_port();
  r.app_port = m.app_port();
  return r;
}

std::string key_prefix(std::string_view prefix) { return std::string(prefix) + "/"; }

std::string registration_key(std::string_view prefix, const InstanceRecord& record) {
  return key_prefix(prefix) + record.app_namespace + "/" + record.app_id + "/" + record.address;
}

std::string prefix_range_end(std::string_view key_prefix) {
  std::string end(key_prefix);
  while (!end.empty()) {
    unsigned char last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

}  // namespace ringside::resolvers::etcd
