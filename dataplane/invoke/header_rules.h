#pragma once
// What happens to one metadata key on its way out to HTTP (spec §5.3): toward an HTTP app on
// the callee side, and toward the HTTP client for response headers on the caller side.
#include <string_view>

namespace ringside::invoke {

enum class HeaderAction {
  kDrop,       // not forwarded (hop-by-hop, content-*, -bin, destination-app-id, ...)
  kCopy,       // every value under the lower-cased key
  kCopyFirst,  // only the first value (baggage)
  kRename,     // every value under "dapr-" + key without a leading ':' (pseudo and grpc- keys)
};

// `connection_tokens` is the comma-separated union of the metadata's Connection values: every
// header named there is hop-by-hop too.
HeaderAction classify_metadata_key(std::string_view key, std::string_view connection_tokens);

// connection, keep-alive, transfer-encoding, upgrade, te, trailer, proxy-* ... (§5.3).
bool is_hop_by_hop_header(std::string_view key);
// Case-insensitive ASCII comparison.
bool iequals(std::string_view a, std::string_view b);
// True when `token` is one of the comma-separated items of `list` (case-insensitive, trimmed).
bool list_contains_token(std::string_view list, std::string_view token);

}  // namespace ringside::invoke
