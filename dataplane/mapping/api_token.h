#pragma once
// API token authentication (DAPR_API_TOKEN, spec §9): every HTTP and gRPC API call must carry
// `dapr-api-token` with the configured value. The comparison takes a time that depends on the
// presented token's length only, never on where it differs from the secret.
#include <string_view>

namespace ringside::invoke {

inline constexpr std::string_view kApiTokenKey = "dapr-api-token";

enum class TokenCheck {
  kOk,        // matches (or no token is configured)
  kMissing,   // required and absent: daprd "missing api token in request metadata"
  kMismatch,  // present and wrong: daprd "authentication error: api token mismatch"
};

// `presented` is nullptr when the request carries no token at all. An empty `expected` means
// authentication is off.
TokenCheck check_api_token(std::string_view expected, const std::string_view* presented);

// Equal contents, compared without an early exit (see above).
bool constant_time_equals(std::string_view secret, std::string_view presented);

}  // namespace ringside::invoke
