#include "controlplane/resolvers/consul/consul_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "controlplane/config/string_view_compat.h"

namespace ringside::resolvers::consul {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool unreserved(unsigned char c) { return absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~'; }

// Go's url.QueryEscape: space becomes '+'.
std::string query_escape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

std::string escape_path_segment(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (unreserved(c) || c == ':' || c == '@' || c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' ||
        c == ')' || c == '*' || c == '+' || c == ',' || c == ';' || c == '=') {
      out.push_back(static_cast<char>(c));
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string build_url(const ClientOptions& client, std::string_view path, const Params& params) {
  std::map<std::string, std::vector<std::string>> values;  // sorted by key, as url.Values.Encode
  if (!client.datacenter.empty()) values["dc"] = {client.datacenter};
  if (!client.ns.empty()) values["ns"] = {client.ns};
  if (!client.partition.empty()) values["partition"] = {client.partition};
  if (client.wait_time.count() > 0) values["wait"] = {absl::StrCat(client.wait_time.count(), "ms")};
  std::map<std::string, bool> set_here;  // keys `params` already replaced
  for (const auto& [k, v] : params) {
    if (k == "node-meta") {
      values[k].push_back(v);  // url.Values.Add
      continue;
    }
    if (!set_here[k]) values[k].clear();
    set_here[k] = true;
    values[k] = {v};
  }
  std::string url = absl::StrCat("http://", client.address, client.path_prefix, config::to_absl(path));
  char sep = '?';
  for (const auto& [k, vs] : values) {
    for (const std::string& v : vs) {
      absl::StrAppend(&url, absl::string_view(&sep, 1), query_escape(k), "=", query_escape(v));
      sep = '&';
    }
  }
  return url;
}

ConsulRequest::ConsulRequest(const ClientOptions& client, std::string method, std::string url, std::string body,
                             std::string_view token, std::string_view cache_control,
                             std::chrono::milliseconds timeout, std::string_view label)
    : body_out_(std::move(body)),
      what_(absl::StrCat(method, " ", label.empty() ? absl::string_view(url) : config::to_absl(label))) {
  global_init();
  curl_ = curl_easy_init();
  if (!curl_) return;
  curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http");
  curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);  // we run on our own threads
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<int64_t>(timeout.count(), 5000)));
  curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, error_);
  curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &ConsulRequest::on_body);
  curl_easy_setopt(curl_, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &ConsulRequest::on_header);
  curl_easy_setopt(curl_, CURLOPT_HEADERDATA, this);
  if (method != "GET") curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method.c_str());
  const std::string& tok = token.empty() ? client.token : std::string(token);
  if (!tok.empty()) headers_ = curl_slist_append(headers_, absl::StrCat("X-Consul-Token: ", tok).c_str());
  if (!cache_control.empty()) {
    headers_ = curl_slist_append(headers_, absl::StrCat("Cache-Control: ", config::to_absl(cache_control)).c_str());
  }
  if (!body_out_.empty() || method == "PUT") {
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body_out_.c_str());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body_out_.size()));
    // The Go client sets a JSON content type with a body and none without (curl would add a
    // form content type to an empty PUT).
    headers_ = curl_slist_append(headers_, body_out_.empty() ? "Content-Type:" : "Content-Type: application/json");
    headers_ = curl_slist_append(headers_, "Expect:");  // no 100-continue round trip
  }
  if (headers_) curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
  if (client.basic_auth) {
    userpwd_ = absl::StrCat(client.username, ":", client.password);
    curl_easy_setopt(curl_, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl_, CURLOPT_USERPWD, userpwd_.c_str());
  }
}

ConsulRequest::~ConsulRequest() {
  if (curl_) curl_easy_cleanup(curl_);
  if (headers_) curl_slist_free_all(headers_);
}

size_t ConsulRequest::on_body(char* data, size_t size, size_t n, void* self) {
  auto* r = static_cast<ConsulRequest*>(self);
  constexpr size_t kMaxBody = 64 << 20;  // a health answer for thousands of instances fits
  if (r->response_.body.size() + size * n > kMaxBody) return 0;  // aborts the transfer
  r->response_.body.append(data, size * n);
  return size * n;
}

size_t ConsulRequest::on_header(char* data, size_t size, size_t n, void* self) {
  auto* r = static_cast<ConsulRequest*>(self);
  absl::string_view line(data, size * n);
  if (absl::StartsWithIgnoreCase(line, "HTTP/")) {
    r->response_.index.reset();  // a new response head (after a redirect or 1xx)
  } else if (absl::StartsWithIgnoreCase(line, "X-Consul-Index:")) {
    uint64_t v = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(15)), &v)) r->response_.index = v;
  }
  return size * n;
}

absl::StatusOr<Response> ConsulRequest::perform() {
  if (!curl_) return absl::InternalError(absl::StrCat("consul: ", what_, ": curl_easy_init failed"));
  return result(curl_easy_perform(curl_));
}

absl::StatusOr<Response> ConsulRequest::result(int curl_code) {
  if (!curl_) return absl::InternalError(absl::StrCat("consul: ", what_, ": curl_easy_init failed"));
  if (curl_code != CURLE_OK) {
    std::string why = error_[0] ? std::string(error_) : curl_easy_strerror(static_cast<CURLcode>(curl_code));
    return absl::UnavailableError(absl::StrCat("consul: ", what_, ": ", why));
  }
  curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &response_.status);
  if (response_.status < 200 || response_.status > 299) {
    std::string snippet = response_.body.substr(0, 200);
    absl::StripTrailingAsciiWhitespace(&snippet);
    return absl::UnavailableError(
        absl::StrCat("consul: ", what_, ": HTTP ", response_.status, snippet.empty() ? "" : ": ", snippet));
  }
  return std::move(response_);
}

}  // namespace ringside::resolvers::consul
