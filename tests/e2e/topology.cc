#include "tests/e2e/topology.h"

#include "absl/strings/str_cat.h"

namespace ringside::e2e {

absl::Status Topology::Start(const TopologyOptions& options) {
  dir = std::make_unique<TempDir>();
  if (dir->path().empty()) return absl::InternalError("cannot create a temp dir");
  nr_db = dir->File("nr.db");
  auto started_app = StartEchoApp(*dir, &app_port);
  if (!started_app.ok()) return started_app.status();
  app = std::move(*started_app);

  SidecarOptions b_options{.binary = options.binary, .app_id = "b", .app_port = app_port,
                           .nr_db = nr_db, .max_body_size = options.max_body_size, .shards = options.shards};
  auto started_b = StartSidecar(b_options, *dir);
  if (!started_b.ok()) return started_b.status();
  b = std::move(*started_b);

  SidecarOptions a_options{.binary = options.binary, .app_id = "a", .nr_db = nr_db,
                           .max_body_size = options.max_body_size,
                           .shards = options.caller_shards.empty() ? options.shards : options.caller_shards};
  auto started_a = StartSidecar(a_options, *dir);
  if (!started_a.ok()) return started_a.status();
  a = std::move(*started_a);

  // Registration is visible within ~1 s; allow generous slack on a loaded machine.
  if (!WaitUntilInvocable(a.ports.http, "b", 15s)) {
    return absl::DeadlineExceededError(absl::StrCat("a could not invoke b within 15 s\n", Logs()));
  }
  return absl::OkStatus();
}

std::string Topology::Logs() const {
  std::string out;
  if (app) absl::StrAppend(&out, "--- echo app log:\n", app->LogTail(1500), "\n");
  if (b.process) absl::StrAppend(&out, "--- sidecar b log:\n", b.process->LogTail(), "\n");
  if (a.process) absl::StrAppend(&out, "--- sidecar a log:\n", a.process->LogTail(), "\n");
  return out;
}

}  // namespace ringside::e2e
