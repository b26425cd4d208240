// ringsided: the ringside sidecar. Flags follow daprd's names (spec §8).
#include <sys/resource.h>

#include <cstdio>
#include <string>

#include "dataplane/tls/openssl_memory.h"
#include "controlplane/config/options.h"
#include "dataplane/main/sidecar.h"

namespace {

// Every connection is a descriptor, and --max-connections defaults to 10,000 per shard: the
// soft RLIMIT_NOFILE (often 1024) would refuse far earlier. Raise it to the hard limit, as Go
// does for daprd at start-up; what the hard limit allows is the operator's choice
// (LimitNOFILE= in examples/systemd).
void raise_open_file_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &r);
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Before anything can make OpenSSL allocate (issue 10: record writes allocate; see the header).
  const bool openssl_recycling = ringside::tls::install_openssl_allocator();
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
  raise_open_file_limit();
  if (!openssl_recycling && options.enable_mtls)
    std::fprintf(stderr, "ringsided: mtls: OpenSSL allocated before start-up; record writes will use malloc\n");
  return ringside::run_sidecar(std::move(options));
}
