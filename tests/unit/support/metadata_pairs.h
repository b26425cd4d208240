#pragma once
// Helpers shared by the gRPC mapping tests: metadata lists as plain strings.
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/grpc/header_store.h"
#include "dataplane/http1/base64.h"

namespace ringside::invoke::test {

using Pairs = std::vector<std::pair<std::string, std::string>>;

inline Pairs pairs_of(grpc::HeaderStore& store) {
  std::span<const grpc::Metadata> md;
  Pairs out;
  if (!store.materialize(&md)) return out;
  for (const grpc::Metadata& m : md) out.emplace_back(std::string(m.key), std::string(m.value));
  return out;
}

inline std::vector<std::string> values_of(const Pairs& p, const std::string& key) {
  std::vector<std::string> out;
  for (const auto& [k, v] : p) {
    if (k == key) out.push_back(v);
  }
  return out;
}

// Decodes base64 with or without padding (as gRPC "-bin" values travel).
inline std::string unbase64(const std::string& s) {
  std::string out(http1::base64_decoded_max_size(s.size()), '\0');
  size_t n = 0;
  if (!http1::base64_decode(s, std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()), out.size()),
                            &n, http1::Base64Padding::kOptional)) {
    return "<invalid base64>";
  }
  out.resize(n);
  return out;
}

}  // namespace ringside::invoke::test
