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

// `for_each(f)` must call f(key, value) for every metadata value, in order. Keys come out in
// Go's canonical form; values that could inject headers (CR/LF) are skipped. False only when
// `out` cannot grow.
template <class ForEach>
bool append_metadata_as_http_headers(mem::Buffer& out, ForEach&& walk) {
  // The Connection tokens must be known before the first header is written, so the values are
  // visited twice. `walk` decodes them from the encoded message each time: it runs once, into
  // a table on the stack, and both passes read the table (a message with more values than the
  // table holds is walked again for each pass).
  constexpr size_t kTable = 64;
  std::string_view keys[kTable];
  std::string_view values[kTable];
  size_t n = 0;
  bool overflow = false;
  walk([&](std::string_view k, std::string_view v) {
    if (n < kTable) {
      keys[n] = k;
      values[n] = v;
      ++n;
    } else {
      overflow = true;
    }
  });
  auto for_each = [&](auto&& f) {
    if (overflow) {
      walk(f);
      return;
    }
    for (size_t i = 0; i < n; ++i) f(keys[i], values[i]);
  };
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
