#include "tools/grpc_load/load_channel.h"

#include "absl/strings/str_cat.h"

namespace ringside::grpc_load {

std::shared_ptr<grpc::Channel> NewLoadChannel(const std::string& target, int index) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // Channels with identical arguments may share a subchannel even so; a distinct (otherwise
  // unused) argument rules that out.
  args.SetInt("grpc.channel_id", index);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

absl::Status ConnectChannel(grpc::Channel& channel, SystemTime deadline) {
  for (;;) {
    const grpc_connectivity_state state = channel.GetState(/*try_to_connect=*/true);
    if (state == GRPC_CHANNEL_READY) return absl::OkStatus();
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_SHUTDOWN) {
      return absl::UnavailableError("cannot connect");
    }
    if (!channel.WaitForStateChange(state, deadline)) {
      return absl::DeadlineExceededError("not connected before the time bound");
    }
  }
}

}  // namespace ringside::grpc_load
