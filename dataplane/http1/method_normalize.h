#pragma once
// Dapr's invoke-method normalization (v1.18+, applied by caller and callee, spec §4.1).
#include <span>
#include <string_view>

namespace ringside::http1 {

enum class MethodCheck {
  kOk,
  kInvalid,        // contains '#', '?', NUL, 0x01-0x1F or 0x7F → "invalid method: …"
  kNoSpace,        // out too small
};

// Rejects the characters above, then resolves "." and ".." segments as path.Clean("/" + method)
// does, so leading "../" is dropped, duplicate '/' collapse, and "." or ".." alone become "".
// A trailing '/' of the input is kept (as Dapr's cleanPath keeps it). No leading '/' in the
// result. out needs method.size() + 1 bytes; *normalized views out (or is empty).
MethodCheck normalize_method(std::string_view method, std::span<char> out,
                             std::string_view* normalized);

}  // namespace ringside::http1
