#include "dataplane/grpc/header_store.h"

namespace ringside::grpc {

bool HeaderStore::add_string(std::string_view s, uint32_t* offset) {
  *offset = static_cast<uint32_t>(bytes_.size());
  return bytes_.append(s.data(), s.size());
}

bool HeaderStore::add(std::string_view key, std::string_view value) {
  Entry e;
  if (!add_string(key, &e.key_off) || !add_string(value, &e.value_off)) return false;
  e.key_len = static_cast<uint32_t>(key.size());
  e.value_len = static_cast<uint32_t>(value.size());
  return entries_.push_back(e);
}

bool HeaderStore::materialize(std::span<const Metadata>* out) {
  views_.clear();
  std::string_view all = bytes_.view();
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    if (!views_.push_back(Metadata{all.substr(e.key_off, e.key_len),
                                   all.substr(e.value_off, e.value_len)})) {
      return false;
    }
  }
  *out = views_.span();
  return true;
}

void HeaderStore::clear() {
  bytes_.clear();
  entries_.clear();
  views_.clear();
}

void HeaderStore::release() {
  bytes_.release();
  entries_.release();
  views_.release();
}

}  // namespace ringside::grpc
