#pragma once
// Standard reason phrases, the same table as Go's http.StatusText.
#include <string_view>

namespace ringside::http1 {

// Reason phrase for status, or "" when the code has none (Go then writes "status code NNN").
std::string_view reason_phrase(int status);

}  // namespace ringside::http1
