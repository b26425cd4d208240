#include "dataplane/mapping/invoke_target.h"

#include <cstdint>

#include "dataplane/http1/base64.h"
#include "dataplane/http1/char_class.h"
#include "dataplane/http1/method_normalize.h"
#include "dataplane/http1/path_clean.h"
#include "dataplane/http1/percent_decode.h"

namespace ringside::invoke {
namespace {

constexpr std::string_view kBasic = "Basic ";
constexpr size_t kSlack = 32;  // per-region slack: cleaning may add a '/' or a '.'

// Authorization value to decode, or empty when it is not Basic.
std::string_view basic_credentials(const http1::RequestHead& head) {
  const http1::Header* h = head.find("authorization");
  if (!h || h->value.substr(0, kBasic.size()) != kBasic) return {};
  return h->value.substr(kBasic.size());
}

// Method for the header forms: cleaned path without its leading '/', then normalized.
TargetError method_from_whole_path(std::string_view decoded_path, std::span<char> clean_area,
                                   std::span<char> out_area, std::string_view* method) {
  std::string_view cleaned = http1::path_clean_keep_trailing_slash(decoded_path, clean_area);
  if (!cleaned.empty() && cleaned[0] == '/') cleaned.remove_prefix(1);
  if (http1::normalize_method(cleaned, out_area, method) != http1::MethodCheck::kOk)
    return TargetError::kInvalidMethod;
  return TargetError::kNone;
}

// Fills app_id / app_namespace from out->target.
TargetError classify_target(InvokeTarget* out) {
  std::string_view t = out->target;
  if (t.substr(0, 7) == "http://" || t.substr(0, 8) == "https://") {
    out->is_external_url = true;
    out->app_id = t;
    return TargetError::kNone;
  }
  if (!split_app_id(t, &out->app_id, &out->app_namespace)) return TargetError::kInvalidAppId;
  out->has_namespace = t.find('.') != std::string_view::npos;
  return TargetError::kNone;
}

}  // namespace

size_t invoke_prefix_end(std::string_view path) {
  static constexpr std::string_view kParts[] = {"v1.0", "invoke"};
  constexpr size_t kCount = 2;
  size_t found = 0, start = 0, i = 0;
  for (; i < path.size(); ++i) {
    if (path[i] != '/') {
      if (found >= kCount) return i;
      continue;
    }
    if (i > start) {
      if (path.substr(start, i - start) != kParts[found]) return 0;
      ++found;
    }
    start = i + 1;
  }
  return found >= kCount ? i : 0;
}

bool split_app_id(std::string_view target, std::string_view* app, std::string_view* ns) {
  size_t dot = target.find('.');
  if (dot == std::string_view::npos) {
    *app = target;
    *ns = {};
    return true;
  }
  if (target.find('.', dot + 1) != std::string_view::npos) return false;
  *app = target.substr(0, dot);
  *ns = target.substr(dot + 1);
  return true;
}

size_t invoke_scratch_size(const http1::RequestHead& head) {
  return 2 * (head.path.size() + kSlack) + http1::base64_decoded_max_size(basic_credentials(head).size());
}

TargetError extract_invoke_target(const http1::RequestHead& head, std::span<char> scratch,
                                  InvokeTarget* out) {
  *out = InvokeTarget{};
  if (scratch.size() < invoke_scratch_size(head)) return TargetError::kScratchTooSmall;
  // Layout: [ area_a: path+32 | area_b: path+32 | area_c: decoded Basic credentials ]
  size_t region = head.path.size() + kSlack;
  std::span<char> area_a = scratch.subspan(0, region);
  std::span<char> area_b = scratch.subspan(region, region);
  std::span<char> area_c = scratch.subspan(2 * region);

  std::string_view path;  // decoded, in area_a
  if (!http1::percent_decode_path(head.path, area_a, &path)) return TargetError::kBadPath;

  // 1. dapr-app-id header.
  if (const http1::Header* h = head.find("dapr-app-id"); h && !h->value.empty()) {
    out->target = h->value;
    out->from_header = true;
    TargetError e = method_from_whole_path(path, area_b, area_a, &out->method);
    if (e != TargetError::kNone) return e;
    return classify_target(out);
  }

  // 2. Authorization: Basic base64("dapr-app-id:<id>").
  if (std::string_view cred = basic_credentials(head); !cred.empty()) {
    auto* bytes = reinterpret_cast<uint8_t*>(area_c.data());
    size_t n;
    if (http1::base64_decode(cred, {bytes, area_c.size()}, &n)) {
      std::string_view pair(area_c.data(), n);
      size_t colon = pair.find(':');
      bool one_colon = colon != std::string_view::npos &&
                       pair.find(':', colon + 1) == std::string_view::npos;
      if (one_colon && http1::iequals(pair.substr(0, colon), "dapr-app-id")) {
        out->target = pair.substr(colon + 1);
        TargetError e = method_from_whole_path(path, area_b, area_a, &out->method);
        if (e != TargetError::kNone) return e;
        return classify_target(out);
      }
    }
  }

  // 3. /v1.0/invoke/<id>/method/<method...>
  size_t idx = invoke_prefix_end(path);
  if (idx == 0) return TargetError::kNoTarget;
  std::string_view rest = path.substr(idx);
  size_t m = rest.find("/method/");
  if (m == std::string_view::npos || m == 0) return TargetError::kNoTarget;
  std::string_view raw_id = rest.substr(0, m);
  std::string_view raw_method = rest.substr(m + 8);

  // area_a holds both raw views; move the id and the cleaned method into area_b first.
  std::string_view id;
  if (!http1::query_unescape(raw_id, area_b, &id) || id.empty()) {
    for (size_t i = 0; i < raw_id.size(); ++i) area_b[i] = raw_id[i];
    id = std::string_view(area_b.data(), raw_id.size());
  }
  out->target = id;
  std::string_view cleaned = http1::path_clean(raw_method, area_b.subspan(id.size()));
  if (cleaned == ".") cleaned = {};
  if (http1::normalize_method(cleaned, area_a, &out->method) != http1::MethodCheck::kOk)
    return TargetError::kInvalidMethod;
  return classify_target(out);
}

}  // namespace ringside::invoke
