#include "controlplane/resolvers/mdns/multicast_sockets.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ringside::mdns {
namespace {

absl::Status errno_error(const char* what) {
  return absl::UnavailableError(absl::StrCat("mdns: ", what, ": ", std::strerror(errno)));
}

int set_int(int fd, int level, int opt, int value) { return setsockopt(fd, level, opt, &value, sizeof(value)); }

in_addr ipv4_group() {
  in_addr a{};
  inet_pton(AF_INET, "224.0.0.251", &a);
  return a;
}

in6_addr ipv6_group() {
  in6_addr a{};
  inet_pton(AF_INET6, "ff02::fb", &a);
  return a;
}

}  // namespace

uint16_t Datagram::from_port() const {
  if (from.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&from)->sin_port);
  if (from.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&from)->sin6_port);
  return 0;
}

absl::StatusOr<std::vector<NetInterface>> select_interfaces(const std::vector<std::string>& only, bool loopback_only,
                                                            std::string_view path) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return errno_error("getifaddrs");
  std::vector<NetInterface> all;       // up, multicast, non-loopback
  std::vector<NetInterface> loopback;  // up loopback interfaces
  for (ifaddrs* ifa = list; ifa != nullptr; ifa = ifa->ifa_next) {
    if ((ifa->ifa_flags & IFF_UP) == 0 || ifa->ifa_addr == nullptr) continue;
    const int family = ifa->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    const bool is_loopback = (ifa->ifa_flags & IFF_LOOPBACK) != 0;
    if (!is_loopback && (ifa->ifa_flags & IFF_MULTICAST) == 0) continue;
    std::vector<NetInterface>& into = is_loopback ? loopback : all;
    auto it = std::find_if(into.begin(), into.end(), [&](const NetInterface& n) { return n.name == ifa->ifa_name; });
    if (it == into.end()) {
      NetInterface n;
      n.name = ifa->ifa_name;
      n.index = static_cast<int>(if_nametoindex(ifa->ifa_name));
      into.push_back(n);
      it = into.end() - 1;
    }
    (family == AF_INET ? it->has_ipv4 : it->has_ipv6) = true;
  }
  freeifaddrs(list);
  if (!only.empty()) {
    std::vector<NetInterface> chosen;
    for (size_t i = 0; i < only.size(); ++i) {
      auto match = [&](const NetInterface& n) { return n.name == only[i]; };
      auto it = std::find_if(all.begin(), all.end(), match);
      if (it == all.end()) {
        it = std::find_if(loopback.begin(), loopback.end(), match);
        if (it == loopback.end())
          return absl::InvalidArgumentError(absl::StrCat(std::string(path), "[", i, "]: no interface \"", only[i],
                                                         "\" that is up with an IP address and multicast"));
      }
      chosen.push_back(*it);
    }
    return chosen;
  }
  if (all.empty() || loopback_only) return loopback;
  return all;
}

MulticastSockets::~MulticastSockets() { close(); }

void MulticastSockets::close() {
  if (fd4_ >= 0) ::close(fd4_);
  if (fd6_ >= 0) ::close(fd6_);
  fd4_ = fd6_ = -1;
  ipv6_interfaces_.clear();
}

absl::Status MulticastSockets::open(std::vector<NetInterface> interfaces) {
  close();
  interfaces_ = std::move(interfaces);
  if (interfaces_.empty()) return absl::UnavailableError("mdns: no interface is up with an IP address");

  fd4_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd4_ < 0) return errno_error("IPv4 socket");
  set_int(fd4_, SOL_SOCKET, SO_REUSEADDR, 1);
  set_int(fd4_, SOL_SOCKET, SO_REUSEPORT, 1);
  set_int(fd4_, IPPROTO_IP, IP_PKTINFO, 1);
  set_int(fd4_, IPPROTO_IP, IP_MULTICAST_TTL, 255);  // RFC 6762 §11
  set_int(fd4_, IPPROTO_IP, IP_MULTICAST_LOOP, 1);
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_port = htons(kMdnsPort);
  any.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(fd4_, reinterpret_cast<sockaddr*>(&any), sizeof(any)) != 0) {
    absl::Status s = errno_error("bind 0.0.0.0:5353");
    close();
    return s;
  }
  std::vector<std::string> failed;
  size_t joined = 0;
  for (const NetInterface& n : interfaces_) {
    ip_mreqn m{};
    m.imr_multiaddr = ipv4_group();
    m.imr_ifindex = n.index;
    if (setsockopt(fd4_, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m)) == 0 || errno == EADDRINUSE) {
      ++joined;
    } else {
      failed.push_back(absl::StrCat(n.name, " (", std::strerror(errno), ")"));
    }
  }
  if (joined == 0) {
    close();
    return absl::UnavailableError(absl::StrCat("mdns: cannot join 224.0.0.251 on ", absl::StrJoin(failed, ", ")));
  }

  // IPv6 is best effort: hosts without it (or with it disabled) still work over IPv4.
  fd6_ = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd6_ >= 0) {
    set_int(fd6_, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    set_int(fd6_, SOL_SOCKET, SO_REUSEADDR, 1);
    set_int(fd6_, SOL_SOCKET, SO_REUSEPORT, 1);
    set_int(fd6_, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
    set_int(fd6_, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255);
    set_int(fd6_, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 1);
    sockaddr_in6 any6{};
    any6.sin6_family = AF_INET6;
    any6.sin6_port = htons(kMdnsPort);
    any6.sin6_addr = in6addr_any;
    if (bind(fd6_, reinterpret_cast<sockaddr*>(&any6), sizeof(any6)) == 0) {
      for (const NetInterface& n : interfaces_) {
        if (!n.has_ipv6) continue;
        ipv6_mreq m{};
        m.ipv6mr_multiaddr = ipv6_group();
        m.ipv6mr_interface = static_cast<unsigned>(n.index);
        if (setsockopt(fd6_, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof(m)) == 0 || errno == EADDRINUSE)
          ipv6_interfaces_.push_back(n.index);
      }
    }
    if (ipv6_interfaces_.empty()) {
      ::close(fd6_);
      fd6_ = -1;
    }
  }
  return absl::OkStatus();
}

bool MulticastSockets::serves(int interface_index) const {
  return std::any_of(interfaces_.begin(), interfaces_.end(), [&](const NetInterface& n) { return n.index == interface_index; });
}

void MulticastSockets::send_multicast(std::span<const uint8_t> packet, int interface_index) {
  for (const NetInterface& n : interfaces_) {
    if (interface_index != 0 && n.index != interface_index) continue;
    if (fd4_ >= 0 && n.has_ipv4) {
      ip_mreqn via{};
      via.imr_ifindex = n.index;
      setsockopt(fd4_, IPPROTO_IP, IP_MULTICAST_IF, &via, sizeof(via));
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_port = htons(kMdnsPort);
      to.sin_addr = ipv4_group();
      // Best effort like every mDNS sender: a lost datagram is covered by the repeats.
      (void)sendto(fd4_, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
    }
    if (fd6_ >= 0 && std::find(ipv6_interfaces_.begin(), ipv6_interfaces_.end(), n.index) != ipv6_interfaces_.end()) {
      set_int(fd6_, IPPROTO_IPV6, IPV6_MULTICAST_IF, n.index);
      sockaddr_in6 to{};
      to.sin6_family = AF_INET6;
      to.sin6_port = htons(kMdnsPort);
      to.sin6_addr = ipv6_group();
      (void)sendto(fd6_, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
    }
  }
}

void MulticastSockets::send_unicast(std::span<const uint8_t> packet, const Datagram& to) {
  const int fd = to.from.ss_family == AF_INET6 ? fd6_ : fd4_;
  if (fd < 0) return;
  (void)sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<const sockaddr*>(&to.from), to.from_len);
}

bool MulticastSockets::receive(int fd, std::span<uint8_t> buf, Datagram* out) {
  iovec iov{buf.data(), buf.size()};
  alignas(cmsghdr) char control[256];
  msghdr msg{};
  msg.msg_name = &out->from;
  msg.msg_namelen = sizeof(out->from);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  const ssize_t n = recvmsg(fd, &msg, 0);
  if (n <= 0) return false;
  if ((msg.msg_flags & MSG_TRUNC) != 0) return false;  // larger than any mDNS message we accept
  out->size = static_cast<size_t>(n);
  out->from_len = msg.msg_namelen;
  out->interface_index = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof(info));
      out->interface_index = info.ipi_ifindex;
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof(info));
      out->interface_index = static_cast<int>(info.ipi6_ifindex);
    }
  }
  return serves(out->interface_index);
}

}  // namespace ringside::mdns
