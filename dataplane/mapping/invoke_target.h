#pragma once
// Who is being invoked: the target app id and the method, taken from a parsed HTTP/1.1 request
// head exactly as daprd's HTTP API does (spec §4.1). Pure and allocation-free: decoded and cleaned
// strings are written to caller-provided scratch, everything else views the receive buffer.
//
// First match wins:
//   1. header dapr-app-id (any case, first value, non-empty), any path: method = whole decoded
//      path, cleaned (trailing '/' kept, as Dapr's cleanPath), without its leading '/'.
//   2. Authorization: Basic base64("dapr-app-id:<id>") (user compared case-insensitively,
//      exactly one ':'): same method rule.
//   3. path /v1.0/invoke/<id>/method/<method...> (decoded path; repeated '/' in the prefix ok):
//      id = text before the first "/method/", URL-unescaped once more (Go QueryUnescape, so
//      http%253A%252F%252Fhost works; on failure the text is kept); method = the rest, path.Clean'ed,
//      "." → "".
// The method then goes through Dapr's normalization (http1/method_normalize.h).
#include <cstddef>
#include <span>
#include <string_view>

#include "dataplane/http1/request_parser.h"

namespace ringside::invoke {

struct InvokeTarget {
  std::string_view target;         // the id as extracted: "app", "app.ns", an http(s):// URL or an
                                   // HTTPEndpoint name (check endpoint names before app_id/namespace)
  std::string_view app_id;         // app part of target (all of target for URLs)
  std::string_view app_namespace;  // part after the dot of "app.ns"; empty = caller's namespace
  bool has_namespace = false;      // target had a dot ("app." names the empty namespace in Dapr)
  bool is_external_url = false;    // target starts with http:// or https://: call it directly
  std::string_view method;         // normalized method, no leading '/'
  bool from_header = false;        // dapr-app-id header used → drop it when forwarding
};

enum class TargetError {
  kNone,
  kNoTarget,         // 404 ERR_DIRECT_INVOKE "failed getting app id either from the URL path or the header dapr-app-id"
  kInvalidAppId,     // more than one dot: "invalid app id <id>" (target and method are filled in)
  kInvalidMethod,    // normalization refused the method: "invalid method: …" (target filled in)
  kBadPath,          // the path has an invalid %-escape (parse_request_head already answers 400)
  kScratchTooSmall,  // scratch smaller than invoke_scratch_size(head)
};

// Scratch bytes extract_invoke_target needs for this head: 2 * path size + 64, plus room to
// decode a Basic Authorization value. 2 * max_head_bytes + 64 always suffices.
size_t invoke_scratch_size(const http1::RequestHead& head);

// Fills *out from head. Views in *out point into head's buffer or into scratch.
TargetError extract_invoke_target(const http1::RequestHead& head, std::span<char> scratch,
                                  InvokeTarget* out);

// Dapr's pathHasPrefix(path, "v1.0", "invoke"): the offset just past "/v1.0/invoke/" (and any
// further '/'), or 0 when path does not start that way. Works on the decoded path.
size_t invoke_prefix_end(std::string_view path);
// True if the decoded path is under /v1.0/invoke/.
inline bool is_invoke_path(std::string_view path) { return invoke_prefix_end(path) > 0; }

// Dapr's requestAppIDAndNamespace split: "app" → (app, ""), "app.ns" → (app, ns); false for
// more than one dot.
bool split_app_id(std::string_view target, std::string_view* app, std::string_view* ns);

}  // namespace ringside::invoke
