// Fuzzes decode_record (values other writers, or operators with etcdctl, put under the prefix):
// no crash on any bytes; whatever decodes re-encodes to a value that decodes to the same record;
// prefix_range_end always yields a bound above every key with that prefix.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "controlplane/resolvers/etcd/instance_record.h"

namespace etcd = ringside::resolvers::etcd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<etcd::InstanceRecord> record = etcd::decode_record(input);
  if (record.ok()) {
    if (record->app_id.empty() || record->address.empty() || record->app_namespace.empty()) std::abort();
    if (record->weight == 0 || record->weight > etcd::kMaxWeight) std::abort();
    absl::StatusOr<etcd::InstanceRecord> again = etcd::decode_record(etcd::encode_record(*record));
    if (!again.ok() || !(*again == *record)) std::abort();
  }
  std::string end = etcd::prefix_range_end(input);
  if (end == std::string(1, '\0')) {
    // "to the end of the key space": only right when the prefix is empty or all 0xff.
    if (input.find_first_not_of('\xff') != std::string_view::npos) std::abort();
  } else {
    // The prefix itself and its longest extensions sort below the bound.
    if (!(std::string(input) < end) || !(std::string(input) + std::string(8, '\xff') < end)) std::abort();
  }
  return 0;
}
