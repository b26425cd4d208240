#include "controlplane/config/value_parsers.h"

#include <algorithm>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "controlplane/config/string_view_compat.h"

namespace ringside::config {
namespace {

using u128 = unsigned __int128;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A decimal number "123", "1.5", ".5" split into an integer mantissa and the number of
// fraction digits, so 1.5 -> {15, 1}. Consumes from *text.
struct Decimal {
  u128 mantissa = 0;      // all digits read, as one integer
  int fraction_digits = 0;  // digits after the '.'
};

bool take_decimal(std::string_view* text, Decimal* out) {
  size_t i = 0;
  bool any = false;
  bool dot = false;
  for (; i < text->size(); ++i) {
    char c = (*text)[i];
    if (is_digit(c)) {
      // 10^30 is far beyond anything meaningful; stop before u128 overflows.
      if (out->mantissa > (u128(1) << 100)) return false;
      out->mantissa = out->mantissa * 10 + static_cast<unsigned>(c - '0');
      if (dot) ++out->fraction_digits;
      any = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (!any) return false;
  text->remove_prefix(i);
  return true;
}

u128 pow10(int n) {
  u128 r = 1;
  while (n-- > 0) r *= 10;
  return r;
}

}  // namespace

std::optional<uint64_t> parse_quantity(std::string_view text) {
  Decimal d;
  if (text.empty() || text[0] == '-') return std::nullopt;
  if (text[0] == '+') text.remove_prefix(1);
  if (!take_decimal(&text, &d)) return std::nullopt;
  u128 multiplier = 1;
  int exponent10 = 0;  // extra power of ten from "e<n>" or a decimal suffix
  struct Suffix {
    std::string_view name;  // suffix text as Kubernetes spells it
    int shift;              // binary shift (Ki = 10) or 0
    int exp10;              // decimal exponent (k = 3) or 0
  };
  static constexpr Suffix kSuffixes[] = {
      {"Ki", 10, 0}, {"Mi", 20, 0}, {"Gi", 30, 0}, {"Ti", 40, 0}, {"Pi", 50, 0}, {"Ei", 60, 0},
      {"k", 0, 3},   {"M", 0, 6},   {"G", 0, 9},   {"T", 0, 12},  {"P", 0, 15},  {"E", 0, 18},
  };
  if (!text.empty()) {
    bool matched = false;
    for (const Suffix& s : kSuffixes) {
      if (text == s.name) {
        multiplier = u128(1) << s.shift;
        exponent10 = s.exp10;
        matched = true;
        break;
      }
    }
    if (!matched && (text[0] == 'e' || text[0] == 'E') && text.size() > 1) {
      int e = 0;
      std::string_view digits = text.substr(1);
      if (digits.size() > 2 || !std::all_of(digits.begin(), digits.end(), is_digit)) return std::nullopt;
      for (char c : digits) e = e * 10 + (c - '0');
      exponent10 = e;
      matched = true;
    }
    if (!matched) return std::nullopt;
  }
  if (exponent10 > 30) return std::nullopt;
  u128 numerator = d.mantissa * multiplier * pow10(exponent10);
  u128 denominator = pow10(d.fraction_digits);
  u128 value = (numerator + denominator - 1) / denominator;  // round up fractional bytes
  if (value > std::numeric_limits<uint64_t>::max()) return std::nullopt;
  return static_cast<uint64_t>(value);
}

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text[0] == '-') return std::nullopt;
  if (text[0] == '+') text.remove_prefix(1);
  if (text == "0") return std::chrono::nanoseconds(0);
  if (std::all_of(text.begin(), text.end(), is_digit)) {
    int64_t seconds = 0;
    if (!absl::SimpleAtoi(to_absl(text), &seconds) || seconds > std::numeric_limits<int64_t>::max() / 1000000000)
      return std::nullopt;
    return std::chrono::seconds(seconds);
  }
  struct Unit {
    std::string_view name;  // unit text as Go spells it
    int64_t nanos;          // length of one unit
  };
  // Longest names first so "ms" is not read as "m" followed by garbage.
  static constexpr Unit kUnits[] = {
      {"ns", 1}, {"us", 1000}, {"\xC2\xB5s", 1000}, {"\xCE\xBCs", 1000}, {"ms", 1000000},
      {"s", 1000000000}, {"m", 60LL * 1000000000}, {"h", 3600LL * 1000000000},
  };
  u128 total = 0;
  while (!text.empty()) {
    Decimal d;
    if (!take_decimal(&text, &d)) return std::nullopt;
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (absl::StartsWith(to_absl(text), to_absl(u.name)) &&
          // "m" must not swallow the "m" of "ms"
          !(u.name == "m" && absl::StartsWith(to_absl(text), "ms"))) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) return std::nullopt;
    text.remove_prefix(unit->name.size());
    total += d.mantissa * static_cast<u128>(unit->nanos) / pow10(d.fraction_digits);
    if (total > static_cast<u128>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  }
  return std::chrono::nanoseconds(static_cast<int64_t>(total));
}

std::optional<std::vector<int>> parse_cpu_list(std::string_view text) {
  std::vector<int> cpus;
  if (text.empty()) return std::nullopt;
  for (absl::string_view piece : absl::StrSplit(to_absl(text), ',')) {
    std::string_view part = to_std(absl::StripAsciiWhitespace(piece));
    size_t dash = part.find('-');
    std::pair<std::string_view, std::string_view> range{part.substr(0, dash),
                                                        dash == std::string_view::npos ? "" : part.substr(dash + 1)};
    int first = 0;
    int last = 0;
    auto number = [](std::string_view s, int* v) {
      return !s.empty() && std::all_of(s.begin(), s.end(), is_digit) && s.size() <= 5 && absl::SimpleAtoi(to_absl(s), v);
    };
    if (!number(range.first, &first)) return std::nullopt;
    last = first;
    if (part.find('-') != std::string_view::npos && !number(range.second, &last)) return std::nullopt;
    if (last < first) return std::nullopt;
    for (int cpu = first; cpu <= last; ++cpu) {
      if (std::find(cpus.begin(), cpus.end(), cpu) != cpus.end()) return std::nullopt;
      cpus.push_back(cpu);
    }
  }
  return cpus;
}

std::optional<uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5 || !std::all_of(text.begin(), text.end(), is_digit)) return std::nullopt;
  uint32_t v = 0;
  if (!absl::SimpleAtoi(to_absl(text), &v) || v > 65535) return std::nullopt;
  return static_cast<uint16_t>(v);
}

std::optional<int64_t> parse_int(std::string_view text) {
  std::string_view digits = text;
  if (!digits.empty() && digits[0] == '-') digits.remove_prefix(1);
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), is_digit)) return std::nullopt;
  int64_t v = 0;
  if (!absl::SimpleAtoi(to_absl(text), &v)) return std::nullopt;
  return v;
}

std::optional<bool> parse_bool(std::string_view text) {
  std::string lower = absl::AsciiStrToLower(to_absl(text));
  if (lower == "true" || lower == "1" || lower == "t") return true;
  if (lower == "false" || lower == "0" || lower == "f") return false;
  return std::nullopt;
}

}  // namespace ringside::config
