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

// The values of every Connection header of a message: each header they name is hop-by-hop.
class ConnectionTokens {
 public:
  void add(std::string_view value) {
    if (n_ < kMax) values_[n_++] = value;
  }
  bool names(std::string_view key) const;

 private:
  static constexpr int kMax = 8;  // more Connection headers than this are not seen in practice
  std::string_view values_[kMax];
  int n_ = 0;
};

HeaderAction classify_metadata_key(std::string_view key, const ConnectionTokens& connection);

// connection, keep-alive, transfer-encoding, upgrade, te, trailer, proxy-* ... (§5.3).
bool is_hop_by_hop_header(std::string_view key);
// Case-insensitive ASCII comparison. Inline: most calls compare a key with names of another
// length, which then costs a compare, not a call (every metadata key meets a dozen names).
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}
// True when `token` is one of the comma-separated items of `list` (case-insensitive, trimmed).
bool list_contains_token(std::string_view list, std::string_view token);

}  // namespace ringside::invoke
