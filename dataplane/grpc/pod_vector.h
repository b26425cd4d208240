#pragma once
// PodVector moved to dataplane/mem (the HTTP/2 layer uses it too); the old name stays for the
// gRPC code and its users.
#include "dataplane/mem/pod_vector.h"

namespace ringside::grpc {

using mem::PodVector;

}  // namespace ringside::grpc
