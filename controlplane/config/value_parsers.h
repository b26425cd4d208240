// Parsers for the textual values daprd accepts in flags and Configuration YAML:
// Kubernetes resource quantities ("4Mi"), Go durations ("500ms"), CPU lists ("0,2-3"),
// port numbers. Pure functions over string views; no allocation except the CPU list result.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace ringside::config {

// Kubernetes quantity as a byte count: plain integers ("1048576"), binary suffixes
// (Ki Mi Gi Ti Pi Ei), decimal suffixes (k M G T P E), fractions ("1.5Gi") and exponents
// ("1e6"). Fractional bytes round up, as Kubernetes' Quantity.Value() does.
// nullopt on malformed input, negative values or overflow.
std::optional<uint64_t> parse_quantity(std::string_view text);

// Go time.ParseDuration syntax ("5s", "1m30s", "500ms", "1.5h", "0"); units ns, us, µs,
// ms, s, m, h. A bare integer is taken as seconds (YAML authors write `updateInterval: 5`).
// Negative durations are rejected (no option of ours wants one).
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text);

// Linux cpulist syntax: "0-1", "0,2,4-5". Order kept, duplicates rejected.
std::optional<std::vector<int>> parse_cpu_list(std::string_view text);

// Decimal TCP port 0..65535.
std::optional<uint16_t> parse_port(std::string_view text);

// Decimal signed 64-bit integer (no leading '+', no spaces).
std::optional<int64_t> parse_int(std::string_view text);

// "true"/"false"/"1"/"0"/"t"/"f" (case-insensitive), as Go's strconv.ParseBool.
std::optional<bool> parse_bool(std::string_view text);

}  // namespace ringside::config
