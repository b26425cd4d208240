#pragma once
// MetadataBuilder: collects (key, value) pairs and groups them into map<string, ListStringValue>
// entries (one entry per distinct key, values in arrival order), in fixed per-shard scratch
// storage. Used for request metadata (§5.1/§5.2) and app response headers (§5.5).
#include <cstddef>
#include <span>
#include <string_view>

#include "dataplane/codec/invoke_messages.h"

namespace ringside::invoke {

class MetadataBuilder {
 public:
  static constexpr size_t kMaxPairs = 160;       // more than the HTTP parser's header limit
  static constexpr size_t kTextBytes = 32 * 1024;

  void reset() { pairs_ = 0; text_used_ = 0; }
  // False when the scratch is full (the request has too many or too large headers).
  bool add(std::string_view key, std::string_view value);
  // Copies `s` into scratch text (for keys/values computed on the fly); empty view on overflow.
  std::string_view store(std::string_view s);
  // Reserves n bytes of scratch text to write into; nullptr on overflow.
  char* reserve_text(size_t n);
  // Removes every pair whose key equals `key` case-insensitively.
  void remove(std::string_view key);
  bool contains(std::string_view key) const;
  // Groups by exact key. The result views this builder's storage.
  std::span<const codec::MetadataEntry> build();

 private:
  std::string_view keys_[kMaxPairs];
  std::string_view vals_[kMaxPairs];
  size_t pairs_ = 0;
  codec::MetadataEntry entries_[kMaxPairs];
  std::string_view grouped_[kMaxPairs];
  char text_[kTextBytes];
  size_t text_used_ = 0;
};

}  // namespace ringside::invoke
