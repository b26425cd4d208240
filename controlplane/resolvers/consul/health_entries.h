// Maps the answer of GET /v1/health/service/<app>?passing=1 (a JSON array of ServiceEntry:
// {Node:{Address}, Service:{Address, Meta}, Checks:[{Status}]}) to the sidecar addresses daprd
// would dial: Service.Address, else Node.Address, with the port from Service.Meta[<key>].
// Pure function over untrusted bytes (fuzzed: tests/fuzz/consul).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace ringside::resolvers::consul {

struct HealthAddresses {
  std::vector<std::string> addresses;  // "ipv4:port", "[ipv6]:port" or "host.name:port"; sorted, unique
  std::vector<std::string> skipped;    // why an entry was left out (no port meta, bad address, failing check)
};

// Error when the body is not a JSON array of objects. Entries that cannot be dialled are
// skipped with a reason; entries with a check not "passing" are skipped too (the agent already
// filters them with ?passing=1; this keeps a misbehaving proxy from routing to failing ones).
absl::StatusOr<HealthAddresses> addresses_from_health(std::string_view body, std::string_view port_meta_key);

}  // namespace ringside::resolvers::consul
