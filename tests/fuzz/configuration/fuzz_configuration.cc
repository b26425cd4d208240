// Any text as a Configuration file: an error naming a path, or a configuration whose merge into
// the flags keeps the invariants the sidecar relies on (never a crash, never an exception).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "controlplane/config/configuration.h"
#include "controlplane/config/dataplane_config.h"
#include "controlplane/config/mtls_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = ringside::config::parse_configuration(text);
  if (!c.ok()) {
    if (c.status().message().empty()) __builtin_trap();  // every error says what is wrong
    return 0;
  }
  ringside::config::Options o;
  if (ringside::config::apply_mtls_config(c->mtls, &o).ok() && o.enable_mtls &&
      (o.tls_cert_file.empty() || o.tls_key_file.empty() || o.tls_trust_anchors_file.empty()))
    __builtin_trap();
  (void)ringside::config::apply_dataplane_config(c->dataplane, &o);
  return 0;
}
