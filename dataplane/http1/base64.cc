#include "dataplane/http1/base64.h"

#include <array>

namespace ringside::http1 {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> make_decode_table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr std::array<int8_t, 256> kDecode = make_decode_table();

}  // namespace

size_t base64_encode(std::span<const uint8_t> in, std::span<char> out) {
  size_t need = base64_encoded_size(in.size());
  if (out.size() < need) return 0;
  size_t i = 0, w = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    out[w++] = kAlphabet[(v >> 18) & 63];
    out[w++] = kAlphabet[(v >> 12) & 63];
    out[w++] = kAlphabet[(v >> 6) & 63];
    out[w++] = kAlphabet[v & 63];
  }
  size_t rest = in.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t{in[i]} << 16;
    if (rest == 2) v |= uint32_t{in[i + 1]} << 8;
    out[w++] = kAlphabet[(v >> 18) & 63];
    out[w++] = kAlphabet[(v >> 12) & 63];
    out[w++] = rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out[w++] = '=';
  }
  return w;
}

bool base64_decode(std::string_view in, std::span<uint8_t> out, size_t* written,
                   Base64Padding padding) {
  *written = 0;
  // Strip padding: at most two '=' and only as the tail of a complete 4-char group.
  size_t pad = 0;
  while (pad < 2 && pad < in.size() && in[in.size() - 1 - pad] == '=') ++pad;
  if (padding == Base64Padding::kRequired || pad > 0) {
    if (in.size() % 4 != 0) return false;
  }
  std::string_view body = in.substr(0, in.size() - pad);
  if (body.size() % 4 == 1) return false;  // a lone sextet cannot encode a byte
  if (pad > 0 && body.size() % 4 == 0) return false;  // "====" or "AAAA=="-style padding
  size_t need = body.size() / 4 * 3 + (body.size() % 4 == 0 ? 0 : body.size() % 4 - 1);
  if (out.size() < need) return false;
  size_t w = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : body) {
    int v = kDecode[static_cast<uint8_t>(ch)];
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[w++] = static_cast<uint8_t>(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  *written = w;
  return true;
}

}  // namespace ringside::http1
