#include "dataplane/grpc/metadata.h"

namespace ringside::grpc {

bool is_reserved_header(std::string_view key) {
  if (!key.empty() && key[0] == ':') return true;
  return key == "content-type" || key == "te" || key == "grpc-timeout" ||
         key == "grpc-encoding" || key == "grpc-message-type" || key == "grpc-status" ||
         key == "grpc-message";
}

}  // namespace ringside::grpc
