#include "dataplane/mapping/api_token.h"

#include <cstdint>

namespace ringside::invoke {

bool constant_time_equals(std::string_view secret, std::string_view presented) {
  // One pass over the presented bytes, each compared with the secret (wrapping around), so a
  // caller learns nothing from the time but the length it chose itself.
  if (secret.empty()) return presented.empty();
  uint8_t diff = secret.size() == presented.size() ? 0 : 1;
  for (size_t i = 0; i < presented.size(); ++i) {
    diff |= static_cast<uint8_t>(presented[i] ^ secret[i % secret.size()]);
  }
  // Keeps the compiler from turning the loop into an early-exit comparison.
  volatile uint8_t result = diff;
  return result == 0;
}

TokenCheck check_api_token(std::string_view expected, const std::string_view* presented) {
  if (expected.empty()) return TokenCheck::kOk;
  if (presented == nullptr) return TokenCheck::kMissing;
  return constant_time_equals(expected, *presented) ? TokenCheck::kOk : TokenCheck::kMismatch;
}

}  // namespace ringside::invoke
