#include "dataplane/grpc/timeout.h"

#include <limits>

namespace ringside::grpc {
namespace {

constexpr int64_t kMaxValue = 99'999'999;  // 8 digits

int64_t unit_ns(char unit) {
  switch (unit) {
    case 'H': return 3'600'000'000'000;
    case 'M': return 60'000'000'000;
    case 'S': return 1'000'000'000;
    case 'm': return 1'000'000;
    case 'u': return 1'000;
    case 'n': return 1;
    default: return 0;
  }
}

}  // namespace

bool parse_grpc_timeout(std::string_view v, int64_t* out_ns) {
  if (v.size() < 2 || v.size() > 9) return false;
  int64_t scale = unit_ns(v.back());
  if (scale == 0) return false;
  int64_t value = 0;
  for (size_t i = 0; i + 1 < v.size(); ++i) {
    char c = v[i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value > std::numeric_limits<int64_t>::max() / scale) {
    *out_ns = std::numeric_limits<int64_t>::max();
  } else {
    *out_ns = value * scale;
  }
  return true;
}

size_t format_grpc_timeout(int64_t ns, char out[16]) {
  if (ns <= 0) ns = 1;
  static constexpr char kUnits[] = {'n', 'u', 'm', 'S', 'M', 'H'};
  int64_t value = ns;
  char unit = 'H';
  for (char u : kUnits) {
    int64_t scale = unit_ns(u);
    value = ns / scale + (ns % scale != 0 ? 1 : 0);  // round up
    unit = u;
    if (value <= kMaxValue) break;
  }
  if (value > kMaxValue) value = kMaxValue;
  char digits[8];
  size_t n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value);
  for (size_t i = 0; i < n; ++i) out[i] = digits[n - 1 - i];
  out[n] = unit;
  return n + 1;
}

}  // namespace ringside::grpc
