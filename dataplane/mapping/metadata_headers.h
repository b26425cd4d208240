#pragma once
// Writes invocation metadata as HTTP/1.1 header lines (spec §5.3): toward an HTTP app on the
// callee side, and the response headers toward the HTTP client on the caller side. One
// implementation for both, so the two directions cannot drift apart.
#include <cstring>
#include <string_view>

#include "dataplane/http1/canonical_header_key.h"
#include "dataplane/http1/writer.h"
#include "dataplane/mapping/header_rules.h"
#include "dataplane/mem/buffer.h"

namespace ringside::invoke {

// `for_each(f)` must call f(key, value) for every metadata value, in order (it is called twice:
// once to collect the Connection tokens, once to write). Keys come out in Go's canonical form;
// values that could inject headers (CR/LF) are skipped. False only when `out` cannot grow.
template <class ForEach>
bool append_metadata_as_http_headers(mem::Buffer& out, ForEach&& for_each) {
  ConnectionTokens connection_tokens;
  for_each([&](std::string_view k, std::string_view v) {
    if (iequals(k, "connection")) connection_tokens.add(v);
  });
  char keybuf[256];
  char canon[256];
  bool baggage_done = false;
  bool ok = true;
  for_each([&](std::string_view k, std::string_view v) {
    if (!ok || k.empty() || k.size() + 6 > sizeof keybuf) return;
    HeaderAction a = classify_metadata_key(k, connection_tokens);
    if (a == HeaderAction::kDrop) return;
    if (a == HeaderAction::kCopyFirst) {
      if (baggage_done) return;
      baggage_done = true;
    }
    std::string_view key = k;
    if (a == HeaderAction::kRename) {
      std::string_view rest = k[0] == ':' ? k.substr(1) : k;
      std::memcpy(keybuf, "dapr-", 5);
      std::memcpy(keybuf + 5, rest.data(), rest.size());
      key = std::string_view(keybuf, 5 + rest.size());
    }
    ok = http1::append_header(out, http1::canonical_header_key(key, canon), v) !=
         http1::AppendHeader::kNoMemory;
  });
  return ok;
}

}  // namespace ringside::invoke
