#pragma once

#include <cstdint>

namespace ringside::testing {

// A TCP port that is free on this machine, for a test to hand to a process it starts.
//
// Binding to port 0 is not enough: the kernel takes that port from its ephemeral range, and by the
// time the child binds it, any test's outgoing connection may have been given the same port
// ("port ... is already in use", seen in CI). So ports come from just below the ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range), which the kernel never hands to a connect, and a
// counter shared by every test process on the machine (a file under flock) gives each port out once
// per pass over that range. A port something already listens on is skipped. Returns 0 when none is
// free.
uint16_t PickTestPort();

}  // namespace ringside::testing
