#pragma once
// HTTP method ↔ dapr.proto.common.v1.HTTPExtension.Verb (spec §3).
#include <string_view>

namespace ringside::http1 {

// Values equal the protobuf enum numbers.
enum class Verb : int {
  kNone = 0,
  kGet = 1,
  kHead = 2,
  kPost = 3,
  kPut = 4,
  kDelete = 5,
  kConnect = 6,
  kOptions = 7,
  kTrace = 8,
  kPatch = 9,
};

// Dapr's mapping: the upper-cased method looked up among the enum names, unknown → kPost.
// Like Dapr, "none" (any case) maps to kNone, which the HTTP app channel later refuses.
Verb verb_from_method(std::string_view method);

// Enum name ("GET", ...; "NONE" for kNone); "POST" for out-of-range values.
std::string_view verb_name(Verb verb);

}  // namespace ringside::http1
