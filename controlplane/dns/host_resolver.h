// HostResolver: asynchronous host-name lookups (A and AAAA) for the control plane, cached by the
// records' TTL. Instances whose address is a host name (static files, etcd registrations,
// Kubernetes service names) are bound to the addresses it returns before a table is published;
// shards never resolve names.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "controlplane/snapshot/socket_address.h"

namespace ringside::dns {

class HostResolver {
 public:
  virtual ~HostResolver() = default;
  // Any thread. The addresses of `host` from the last answer (IPv4 first, then IPv6; ports 0).
  // When there is no answer yet or its TTL ran out, a lookup starts (one in flight per name)
  // and the previous answer, possibly empty, is returned meanwhile.
  virtual std::vector<snapshot::SocketAddress> addresses(std::string_view host) = 0;
  // Runs on the resolver's own thread whenever an answer changes what addresses() returns for
  // a name. Set before the first addresses() call.
  virtual void set_on_change(std::function<void()> on_change) = 0;
};

}  // namespace ringside::dns
