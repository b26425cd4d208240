// The mDNS sockets: UDP port 5353 on every selected interface, joined to 224.0.0.251 and (where
// the host has IPv6) ff02::fb. SO_REUSEADDR + SO_REUSEPORT let it share the port with
// avahi-daemon and other sidecars; multicast loop is on so two sidecars on one host see each
// other. Blocking is never needed: the resolver thread polls the descriptors.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ringside::mdns {

inline constexpr uint16_t kMdnsPort = 5353;

struct NetInterface {
  int index = 0;          // kernel interface index
  std::string name;       // e.g. "eth0"
  bool has_ipv4 = false;  // has at least one IPv4 address
  bool has_ipv6 = false;  // has at least one IPv6 address
};

// Which interfaces to use:
// - `only` (names) when given; every name must exist (the error names `path`);
// - else, with `loopback_only`, the loopback interface (a sidecar that announces 127.0.0.1 must
//   not tell the LAN that its peers live at their own loopback address);
// - else every up, multicast-capable, non-loopback interface, or loopback when there is none.
absl::StatusOr<std::vector<NetInterface>> select_interfaces(const std::vector<std::string>& only, bool loopback_only,
                                                            std::string_view path);

// One received datagram.
struct Datagram {
  size_t size = 0;                  // bytes in the caller's buffer
  int interface_index = 0;          // where it arrived (IP_PKTINFO / IPV6_PKTINFO)
  sockaddr_storage from{};          // sender
  socklen_t from_len = 0;           // bytes of `from` in use
  uint16_t from_port() const;       // sender's UDP port
};

class MulticastSockets {
 public:
  MulticastSockets() = default;
  ~MulticastSockets();
  MulticastSockets(const MulticastSockets&) = delete;
  MulticastSockets& operator=(const MulticastSockets&) = delete;

  // Opens and joins. IPv4 is required (error when no interface could join); IPv6 is used when
  // a socket can be opened and joined on at least one interface.
  absl::Status open(std::vector<NetInterface> interfaces);
  void close();

  int ipv4_fd() const { return fd4_; }
  int ipv6_fd() const { return fd6_; }  // -1 when IPv6 is not in use

  // Sends `packet` to the group of each family on each interface (or only `interface_index`).
  void send_multicast(std::span<const uint8_t> packet, int interface_index = 0);
  // Sends `packet` back to one peer (legacy unicast queries and QU questions).
  void send_unicast(std::span<const uint8_t> packet, const Datagram& to);
  // Reads one datagram from `fd` into `buf`; false when nothing was waiting or it came from an
  // interface we do not serve.
  bool receive(int fd, std::span<uint8_t> buf, Datagram* out);

  const std::vector<NetInterface>& interfaces() const { return interfaces_; }

 private:
  bool serves(int interface_index) const;

  int fd4_ = -1;                        // AF_INET socket bound to 0.0.0.0:5353
  int fd6_ = -1;                        // AF_INET6 socket bound to [::]:5353 (v6only), or -1
  std::vector<NetInterface> interfaces_;   // interfaces joined on fd4_
  std::vector<int> ipv6_interfaces_;       // indexes joined on fd6_
};

}  // namespace ringside::mdns
