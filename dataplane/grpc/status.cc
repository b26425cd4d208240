#include "dataplane/grpc/status.h"

namespace ringside::grpc {

int http_status_from_grpc(int code) {
  static constexpr int kTable[] = {200, 408, 500, 400, 504, 404, 409, 403, 429,
                                   400, 409, 400, 501, 500, 503, 500, 401};
  if (code < 0 || code >= static_cast<int>(sizeof(kTable) / sizeof(kTable[0]))) return 500;
  return kTable[code];
}

int grpc_code_from_http(int status) {
  if (status >= 200 && status < 300) return 0;
  switch (status) {
    case 400: return 13;
    case 401: return 16;
    case 403: return 7;
    case 404: return 5;
    case 408: return 1;
    case 409: return 6;
    case 429: return 8;
    case 500: return 2;
    case 501: return 12;
    case 503: return 14;
    case 504: return 4;
    default: return 2;
  }
}

int grpc_code_from_transport_http(int status) {
  switch (status) {
    case 400: return 13;
    case 401: return 16;
    case 403: return 7;
    case 404: return 12;
    case 429:
    case 502:
    case 503:
    case 504: return 14;
    default: return 2;
  }
}

int grpc_code_from_h2_error(uint32_t h2_error_code) {
  switch (h2_error_code) {
    case 0x7: return 14;   // REFUSED_STREAM: not processed, retryable
    case 0x8: return 1;    // CANCEL
    case 0xb: return 8;    // ENHANCE_YOUR_CALM
    case 0xc: return 7;    // INADEQUATE_SECURITY
    default: return 13;    // NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR, ...
  }
}

bool parse_grpc_status(std::string_view v, int* out) {
  if (v.empty() || v.size() > 9) return false;
  int n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  *out = n;
  return true;
}

size_t format_grpc_status(int code, char* out) {
  char tmp[12];
  size_t n = 0;
  unsigned u = code < 0 ? 2u : static_cast<unsigned>(code);  // negative codes are not gRPC codes
  do {
    tmp[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u);
  for (size_t i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
  return n;
}

}  // namespace ringside::grpc
