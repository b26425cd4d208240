#pragma once
// grpc-timeout header: "<1..8 ASCII digits><unit>", unit one of H M S m u n.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ringside::grpc {

// Parses a grpc-timeout value into nanoseconds (saturating at INT64_MAX). False if malformed:
// empty, more than 8 digits, non-digit, or unknown unit.
bool parse_grpc_timeout(std::string_view v, int64_t* out_ns);

// Formats ns (> 0; values <= 0 are written as "1n") in the finest unit whose value fits in 8
// digits, rounding up so the peer never sees a longer deadline than ours is shorter.
// Returns the number of characters written (at most 9; out needs 16 bytes).
size_t format_grpc_timeout(int64_t ns, char out[16]);

}  // namespace ringside::grpc
