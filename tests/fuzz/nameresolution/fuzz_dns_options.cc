// Fuzzes the DNS client's option parsers: one nameserver entry ("1.2.3.4", "[::1]:53", ...)
// and the whole DNS key set of a resolver's configuration map (any YAML text). Each input is an
// error or a value that round-trips its invariants, never a crash.
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "controlplane/dns/dns_options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto a = ringside::dns::parse_nameserver(text); a.ok()) {
    if (a->family != AF_INET && a->family != AF_INET6) __builtin_trap();
    if (a->port < 1 || a->port > 65535) __builtin_trap();
  }
  try {
    const YAML::Node cfg = YAML::Load(text);
    if (auto o = ringside::dns::parse_dns_options(cfg, "spec.nameResolution.configuration"); o.ok()) {
      // Every accepted nameserver parses on its own (the client re-parses them at start).
      for (const std::string& ns : o->nameservers) {
        if (!ringside::dns::parse_nameserver(ns).ok()) __builtin_trap();
      }
      if (o->tries < 1) __builtin_trap();
    }
  } catch (const YAML::Exception&) {
    // Not YAML: the Configuration loader reports it before the DNS keys are read.
  }
  return 0;
}
