// Options of the mdns resolver, under spec.nameResolution.configuration. daprd's mdns resolver
// reads no options; these are ringside's own and all optional.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace ringside::mdns {

struct MdnsOptions {
  std::vector<std::string> interfaces;  // `interfaces`: names to announce and browse on; empty = every
                                        // up multicast interface (loopback only when it is the only one)
  std::string host_name;                // `hostName`: host label announced in SRV and A/AAAA ("" = the
                                        // machine's host name, as daprd)
};

// Parses the YAML text of spec.nameResolution.configuration ("" = defaults). Errors name the
// path, e.g. `spec.nameResolution.configuration.interfaces[1]: ...`.
absl::StatusOr<MdnsOptions> parse_mdns_options(std::string_view configuration_yaml);

}  // namespace ringside::mdns
