#include "tests/e2e/inspected_request.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "tools/blocking_http/http_head.h"

namespace ringside::e2e {
namespace {

std::string Trim(std::string s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

}  // namespace

std::vector<std::string> InspectedRequest::Values(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [n, v] : headers) {
    if (!blocking_http::EqualsIgnoreCase(n, name)) continue;
    size_t start = 0;
    for (;;) {
      const size_t comma = v.find(',', start);
      out.push_back(Trim(v.substr(start, comma - start)));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

std::string InspectedRequest::First(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (blocking_http::EqualsIgnoreCase(n, name)) return v;
  }
  return "";
}

std::optional<InspectedRequest> ParseInspectedRequest(const std::string& json) {
  google::protobuf::Struct root;
  if (!google::protobuf::util::JsonStringToMessage(json, &root).ok()) return std::nullopt;
  const auto& f = root.fields();
  for (const char* key : {"method", "path", "query", "headers", "bodyLength", "chunked"}) {
    if (!f.contains(key)) return std::nullopt;
  }
  InspectedRequest r;
  r.method = f.at("method").string_value();
  r.path = f.at("path").string_value();
  r.query = f.at("query").string_value();
  r.body_length = f.at("bodyLength").number_value();
  r.chunked = f.at("chunked").bool_value();
  for (const auto& pair : f.at("headers").list_value().values()) {
    const auto& kv = pair.list_value().values();
    if (kv.size() != 2) return std::nullopt;
    r.headers.emplace_back(kv[0].string_value(), kv[1].string_value());
  }
  return r;
}

}  // namespace ringside::e2e
