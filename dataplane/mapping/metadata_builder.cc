#include "dataplane/mapping/metadata_builder.h"

#include <cstring>

#include "dataplane/mapping/header_rules.h"

namespace ringside::invoke {

bool MetadataBuilder::add(std::string_view key, std::string_view value) {
  if (pairs_ == kMaxPairs) return false;
  keys_[pairs_] = key;
  vals_[pairs_] = value;
  ++pairs_;
  return true;
}

char* MetadataBuilder::reserve_text(size_t n) {
  if (kTextBytes - text_used_ < n) return nullptr;
  char* p = text_ + text_used_;
  text_used_ += n;
  return p;
}

std::string_view MetadataBuilder::store(std::string_view s) {
  char* p = reserve_text(s.size());
  if (!p) return {};
  std::memcpy(p, s.data(), s.size());
  return {p, s.size()};
}

void MetadataBuilder::remove(std::string_view key) {
  size_t w = 0;
  for (size_t r = 0; r < pairs_; ++r) {
    if (iequals(keys_[r], key)) continue;
    keys_[w] = keys_[r];
    vals_[w] = vals_[r];
    ++w;
  }
  pairs_ = w;
}

bool MetadataBuilder::contains(std::string_view key) const {
  for (size_t i = 0; i < pairs_; ++i) {
    if (iequals(keys_[i], key)) return true;
  }
  return false;
}

std::span<const codec::MetadataEntry> MetadataBuilder::build() {
  // Stable grouping: O(n^2) over a few dozen headers beats hashing (and allocates nothing).
  bool taken[kMaxPairs] = {};
  size_t n_entries = 0, n_values = 0;
  for (size_t i = 0; i < pairs_; ++i) {
    if (taken[i]) continue;
    size_t first = n_values;
    for (size_t j = i; j < pairs_; ++j) {
      if (!taken[j] && keys_[j] == keys_[i]) {
        taken[j] = true;
        grouped_[n_values++] = vals_[j];
      }
    }
    entries_[n_entries++] = {keys_[i], std::span<const std::string_view>(grouped_ + first, n_values - first)};
  }
  return {entries_, n_entries};
}

}  // namespace ringside::invoke
