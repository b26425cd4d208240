#include "tests/support/consul_api_double/consul_api_double.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

namespace ringside::testing {

namespace {

size_t append_body(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

DoubleResponse request(const std::string& url, const char* method, std::string_view body, std::string_view token) {
  DoubleResponse r;
  CURL* c = curl_easy_init();
  if (!c) return r;
  curl_slist* headers = nullptr;
  if (!token.empty()) headers = curl_slist_append(headers, ("X-Consul-Token: " + std::string(token)).c_str());
  std::string body_copy(body);
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &append_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  if (std::string_view(method) == "PUT") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body_copy.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body_copy.size()));
    headers = curl_slist_append(headers, "Content-Type: application/json");
  }
  if (headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(c);
  return r;
}

}  // namespace

ConsulApiDouble::ConsulApiDouble(std::vector<std::string> extra_args) : extra_args_(std::move(extra_args)) {
  std::string pattern = (std::filesystem::temp_directory_path() / "ringside-consul-XXXXXX").string();
  if (mkdtemp(pattern.data())) dir_ = pattern;
}

ConsulApiDouble::~ConsulApiDouble() {
  stop();
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

absl::Status ConsulApiDouble::start() {
  if (pid_ > 0) return absl::OkStatus();
  if (dir_.empty()) return absl::InternalError("consul api double: no temp dir");
  const std::string port_file = dir_ + "/port";
  std::filesystem::remove(port_file);
  // -S: no site module (site-packages .pth hooks cost hundreds of ms; the double is stdlib only).
  std::vector<std::string> args = {"python3", "-S", CONSUL_API_DOUBLE_PY, "--port", std::to_string(port_),
                                   "--port-file", port_file};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  const std::string log = dir_ + "/double.log";
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("consul api double: fork failed");
  if (pid == 0) {
    FILE* f = freopen(log.c_str(), "a", stdout);
    (void)f;
    dup2(STDOUT_FILENO, STDERR_FILENO);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp("python3", argv.data());
    _exit(127);
  }
  pid_ = pid;
  // Bounded wait for the port file (written once the socket listens).
  for (int i = 0; i < 200; ++i) {
    std::ifstream in(port_file);
    int p = 0;
    if (in >> p && p > 0) {
      port_ = static_cast<uint16_t>(p);
      return absl::OkStatus();
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::ifstream l(log);
      std::string text((std::istreambuf_iterator<char>(l)), std::istreambuf_iterator<char>());
      return absl::InternalError("consul api double exited at start: " + text);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop();
  return absl::DeadlineExceededError("consul api double did not listen within 10 s");
}

void ConsulApiDouble::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

DoubleResponse ConsulApiDouble::get(std::string_view path, std::string_view token) const {
  return request("http://" + address() + std::string(path), "GET", {}, token);
}

DoubleResponse ConsulApiDouble::put(std::string_view path, std::string_view json_body, std::string_view token) const {
  return request("http://" + address() + std::string(path), "PUT", json_body, token);
}

}  // namespace ringside::testing
