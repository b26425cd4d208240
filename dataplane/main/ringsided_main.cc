// ringsided: the ringside sidecar. Flags follow daprd's names (spec §8).
#include <cstdio>
#include <string>

#include "controlplane/config/options.h"
#include "dataplane/main/sidecar.h"

int main(int argc, char** argv) {
  ringside::config::Options options;
  std::string error;
  switch (ringside::config::parse_flags(argc, argv, &options, &error)) {
    case ringside::config::FlagsOutcome::kExitOk:
      return 0;
    case ringside::config::FlagsOutcome::kUsageError:
      std::fprintf(stderr, "ringsided: %s\nRun 'ringsided --help' for the list of flags.\n",
                   error.c_str());
      return 2;
    case ringside::config::FlagsOutcome::kRun:
      break;
  }
  return ringside::run_sidecar(std::move(options));
}
