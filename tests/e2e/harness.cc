#include "tests/e2e/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/support/free_port/free_port.h"

extern char** environ;

namespace ringside::e2e {
namespace {

std::string ToStd(absl::string_view s) { return std::string(s.data(), s.size()); }

}  // namespace

std::string BinPath(std::string_view name) { return absl::StrCat(RINGSIDE_BIN_DIR, "/", ToStd({name.data(), name.size()})); }

bool BinaryExists(std::string_view name) { return ::access(BinPath(name).c_str(), X_OK) == 0; }

uint16_t PickFreePort() { return ringside::testing::PickTestPort(); }

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ = absl::StrCat(base != nullptr && *base != '\0' ? base : "/tmp", "/ringside-e2e-XXXXXX");
  if (::mkdtemp(templ.data()) != nullptr) path_ = templ;
}

TempDir::~TempDir() {
  if (path_.empty() || std::getenv("RINGSIDE_E2E_KEEP") != nullptr) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(const std::string& path,
                                                                   const std::vector<std::string>& args,
                                                                   const std::vector<std::string>& env,
                                                                   const std::string& log_path) {
  // Everything the child needs is built before fork: after it only async-signal-safe calls.
  std::vector<std::string> argv_storage{path};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry = *e;
    const std::string_view key = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const auto& mine : env) overridden |= std::string_view(mine).substr(0, mine.find('=')) == key;
    if (!overridden) env_storage.emplace_back(entry);
  }
  env_storage.insert(env_storage.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return absl::InternalError(absl::StrCat("open ", log_path, ": ", std::strerror(errno)));
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    ::close(null_fd);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    // If the test process dies, its children must not outlive it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execve(path.c_str(), argv.data(), envp.data());
    const char msg[] = "exec failed\n";
    (void)!::write(2, msg, sizeof msg - 1);
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from the parent, so the group exists before we ever signal it
  ::close(log_fd);
  ::close(null_fd);
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, log_path));
}

ChildProcess::~ChildProcess() {
  if (!exit_code_.has_value()) {
    ::kill(-pid_, SIGKILL);  // the group we created for this child only
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

void ChildProcess::Signal(int signal) {
  if (!exit_code_.has_value()) ::kill(pid_, signal);
}

std::optional<int> ChildProcess::WaitExit(std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (!exit_code_.has_value()) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      ::kill(-pid_, SIGKILL);  // anything the child left behind in its group
      break;
    }
    if (r < 0 && errno != EINTR) return std::nullopt;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
  return exit_code_;
}

bool ChildProcess::Alive() { return !WaitExit(0ms).has_value(); }

std::string ChildProcess::Log() const {
  std::ifstream in(log_path_, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string ChildProcess::LogTail(size_t max_bytes) const {
  const std::string log = Log();
  return log.size() <= max_bytes ? log : log.substr(log.size() - max_bytes);
}

bool WaitForHealthz(uint16_t http_port, std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  RequestSpec spec;
  spec.target = "/v1.0/healthz";
  spec.content_length = false;
  while (Clock::now() < deadline) {
    auto r = Send(http_port, spec, 1s);
    if (r.ok() && r->status() == 204) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

bool WaitForListening(uint16_t port, std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    BlockingHttpConnection c;
    if (c.Connect(port, Clock::now() + 500ms).ok()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::string E2eShards() {
  const char* v = std::getenv("RINGSIDE_E2E_SHARDS");
  return v && *v ? std::string(v) : std::string("1");
}

absl::StatusOr<Sidecar> StartSidecar(const SidecarOptions& options, const TempDir& dir,
                                     SidecarPorts ports) {
  if (!BinaryExists(options.binary)) {
    return absl::NotFoundError(absl::StrCat(BinPath(options.binary), " is not built"));
  }
  for (uint16_t* p : {&ports.http, &ports.grpc, &ports.internal, &ports.metrics}) {
    if (*p == 0) *p = PickFreePort();
  }
  std::vector<std::string> args = {
      "--app-id", options.app_id,
      "--dapr-http-port", absl::StrCat(ports.http),
      "--dapr-grpc-port", absl::StrCat(ports.grpc),
      "--dapr-internal-grpc-port", absl::StrCat(ports.internal),
      "--metrics-port", absl::StrCat(ports.metrics),
      "--shards", options.shards.empty() ? E2eShards() : options.shards};
  if (options.app_port.has_value()) {
    args.insert(args.end(), {"--app-port", absl::StrCat(*options.app_port), "--app-protocol", "http"});
  }
  if (!options.max_body_size.empty()) args.insert(args.end(), {"--max-body-size", options.max_body_size});
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  std::vector<std::string> env;
  if (!options.nr_db.empty()) env.push_back("RINGSIDE_NR_SQLITE=" + options.nr_db);
  env.insert(env.end(), options.env.begin(), options.env.end());
  const std::string log = dir.File(absl::StrCat(options.binary, "-", options.app_id, "-", ports.http, ".log"));
  auto process = ChildProcess::Spawn(BinPath(options.binary), args, env, log);
  if (!process.ok()) return process.status();
  Sidecar sidecar{std::move(*process), ports, options.app_id};
  if (!WaitForHealthz(ports.http, 15s)) {
    const auto exited = sidecar.process->WaitExit(0ms);
    return absl::DeadlineExceededError(absl::StrCat(
        "sidecar ", options.app_id, " not healthy on port ", ports.http, " within 15 s",
        exited ? absl::StrCat(" (exited with ", *exited, ")") : "", "; log:\n",
        sidecar.process->LogTail()));
  }
  return sidecar;
}

absl::StatusOr<std::unique_ptr<ChildProcess>> StartEchoApp(const TempDir& dir, uint16_t* port) {
  *port = PickFreePort();
  auto app = ChildProcess::Spawn(BinPath("ringside-echo-app"), {"--port", absl::StrCat(*port)}, {},
                                 dir.File(absl::StrCat("echo-app-", *port, ".log")));
  if (!app.ok()) return app.status();
  if (!WaitForListening(*port, 10s)) {
    return absl::DeadlineExceededError(absl::StrCat("echo app not listening on ", *port, "; log:\n",
                                                    (*app)->LogTail()));
  }
  return app;
}

absl::StatusOr<HttpMessage> Send(uint16_t port, const RequestSpec& spec, std::chrono::milliseconds timeout) {
  return blocking_http::RoundTrip(port, spec, timeout);
}

absl::StatusOr<HttpMessage> Invoke(uint16_t port, std::string_view method, std::string_view app_id,
                                   std::string_view path_and_query, std::string body,
                                   std::vector<std::pair<std::string, std::string>> headers,
                                   std::chrono::milliseconds timeout) {
  RequestSpec spec;
  spec.method = std::string(method);
  spec.target = absl::StrCat("/v1.0/invoke/", ToStd({app_id.data(), app_id.size()}), "/method/",
                             ToStd({path_and_query.data(), path_and_query.size()}));
  spec.headers = std::move(headers);
  spec.content_length = !body.empty() || method == "POST" || method == "PUT" || method == "PATCH";
  spec.body = std::move(body);
  return Send(port, spec, timeout);
}

bool WaitUntilInvocable(uint16_t caller_http_port, std::string_view app_id,
                        std::chrono::milliseconds timeout,
                        const std::vector<std::pair<std::string, std::string>>& headers) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    auto r = Invoke(caller_http_port, "POST", app_id, "echo", "ping", headers, 3s);
    if (r.ok() && r->status() == 200 && r->body == "ping") return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

std::optional<double> ReadMetric(uint16_t metrics_port, std::string_view name) {
  RequestSpec spec;
  spec.target = "/metrics";
  spec.content_length = false;
  auto r = Send(metrics_port, spec, 5s);
  if (!r.ok() || r->status() != 200) return std::nullopt;
  // Samples with a shard label are per shard; one without is the process total. Prefer totals,
  // else add up the shards.
  std::optional<double> totals;
  std::optional<double> shards;
  std::istringstream lines(r->body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.compare(0, name.size(), name) != 0) continue;
    const char next = line.size() > name.size() ? line[name.size()] : '\0';
    if (next != ' ' && next != '{') continue;  // a longer metric name with the same prefix
    const size_t labels_end = next == '{' ? line.find('}') : name.size();
    if (labels_end == std::string::npos) continue;
    const std::string labels = line.substr(name.size(), labels_end - name.size());
    std::string value = line.substr(std::min(line.size(), labels_end + 1));
    value = value.substr(value.find_first_not_of(' ') == std::string::npos ? 0 : value.find_first_not_of(' '));
    value = value.substr(0, value.find(' '));  // drop an optional timestamp
    double v = 0;
    if (!absl::SimpleAtod(value, &v)) continue;
    auto& bucket = labels.find("shard=") == std::string::npos ? totals : shards;
    bucket = bucket.value_or(0) + v;
  }
  return totals.has_value() ? totals : shards;
}

int CountRegistryRows(const std::string& db_path, std::string_view app_id) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return -1;
  }
  sqlite3_busy_timeout(db, 2000);
  sqlite3_stmt* stmt = nullptr;
  int count = -1;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM hosts WHERE app_id = ?", -1, &stmt, nullptr) == SQLITE_OK) {
    sqlite3_bind_text(stmt, 1, app_id.data(), static_cast<int>(app_id.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(stmt) == SQLITE_ROW) count = sqlite3_column_int(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return count;
}

std::string JsonStringField(const std::string& json, const std::string& key) {
  google::protobuf::Struct root;
  if (!google::protobuf::util::JsonStringToMessage(json, &root).ok()) return "";
  auto it = root.fields().find(key);
  return it == root.fields().end() ? "" : it->second.string_value();
}

std::string RandomBytes(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(size, '\0');
  for (auto& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

namespace {
// A "<field>:   1234 kB" line of /proc/<pid>/status, in bytes; 0 if absent.
uint64_t StatusBytes(pid_t pid, std::string_view field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() <= field.size() || line.compare(0, field.size(), field) != 0 ||
        line[field.size()] != ':') {
      continue;
    }
    std::istringstream fields(line.substr(field.size() + 1));
    uint64_t kib = 0;
    std::string unit;
    fields >> kib >> unit;
    return unit == "kB" ? kib * 1024 : 0;
  }
  return 0;
}
}  // namespace

uint64_t PeakRssBytes(pid_t pid) { return StatusBytes(pid, "VmHWM"); }
uint64_t ResidentBytes(pid_t pid) { return StatusBytes(pid, "VmRSS"); }

int DriveEchoInvocations(uint16_t port, int count, int connections, size_t body_step) {
  return DriveEchoLoad(port, {.count = count, .connections = connections,
                              .body_sizes = {0, body_step, 2 * body_step, 3 * body_step}});
}

int DriveEchoLoad(uint16_t port, const EchoLoad& load) {
  const std::vector<size_t> sizes = load.body_sizes.empty() ? std::vector<size_t>{0} : load.body_sizes;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int c = 0; c < load.connections; ++c) {
    threads.emplace_back([&, c] {
      BlockingHttpConnection conn;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      if (!conn.Connect(port, deadline).ok()) {
        ++failures;
        return;
      }
      for (int i = c; i < load.count; i += load.connections) {
        const std::string body(sizes[static_cast<size_t>(i) % sizes.size()], static_cast<char>('a' + i % 26));
        RequestSpec spec{.method = "POST", .target = "/v1.0/invoke/b/method/echo", .headers = {{"X-Seq", absl::StrCat(i)}}};
        if (load.chunked) {
          spec.content_length = false;
          spec.headers.push_back({"Transfer-Encoding", "chunked"});
          for (size_t at = 0; at < body.size(); at += 65536) {
            const size_t n = std::min<size_t>(65536, body.size() - at);
            spec.body += absl::StrCat(absl::Hex(n), "\r\n");
            spec.body.append(body, at, n);
            spec.body += "\r\n";
          }
          spec.body += "0\r\n\r\n";
        } else {
          spec.body = body;
        }
        if (!conn.SendAll(blocking_http::BuildRequest(spec), deadline).ok()) {
          ++failures;
          return;
        }
        auto r = conn.ReadResponse(deadline);
        if (!r.ok() || r->status() != 200 || r->body != body) {
          ++failures;
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  return failures.load();
}

std::vector<double> ReadMetricPerShard(uint16_t metrics_port, std::string_view name, int shards) {
  std::vector<double> values(static_cast<size_t>(shards), -1);
  RequestSpec spec;
  spec.target = "/metrics";
  spec.content_length = false;
  auto r = Send(metrics_port, spec, 5s);
  if (!r.ok() || r->status() != 200) return values;
  std::istringstream lines(r->body);
  std::string line;
  const std::string prefix = std::string(name) + "{";
  while (std::getline(lines, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    for (int i = 0; i < shards; ++i) {
      if (line.find(absl::StrCat("shard=\"", i, "\"}")) == std::string::npos) continue;
      double v = 0;
      if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &v)) values[static_cast<size_t>(i)] = v;
    }
  }
  return values;
}

}  // namespace ringside::e2e
