#pragma once
// --max-connections (issue 10): a shard serving that many inbound connections (all ports)
// refuses the next one at once, with a clear answer instead of a silent hang, and keeps
// serving the ones it has. The refusal is one non-blocking send of a static answer and a
// close: no state is created, so a connection flood costs the shard one accept, one send and
// one close per attempt (and the kernel's accept backlog bounds the rest).
//   HTTP API:            "HTTP/1.1 503 Service Unavailable", Connection: close, a short text.
//   gRPC (API, internal): the server preface (empty SETTINGS) and GOAWAY(ENHANCE_YOUR_CALM,
//                        "too many connections"); gRPC clients report UNAVAILABLE with it.
#include "dataplane/runtime/shard_services.h"

namespace ringside::invoke {

enum class ConnectionRefusal { kHttp1, kHttp2 };

// True when the shard is full: fd was answered and closed, counted in
// ringside_connections_refused_total. False: serve fd.
bool refuse_if_full(ShardServices* svc, int fd, ConnectionRefusal how);

}  // namespace ringside::invoke
