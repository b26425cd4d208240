#include "dataplane/http1/path_clean.h"

namespace ringside::http1 {
namespace {

// Go's path.Clean loop. force_rooted treats `in` as if a '/' preceded it.
std::string_view clean(std::string_view in, std::span<char> out, bool force_rooted) {
  size_t n = in.size();
  bool rooted = force_rooted || (n > 0 && in[0] == '/');
  size_t need = n + (force_rooted ? 1 : 0);
  if (need == 0) need = 1;
  if (out.size() < need) return {};
  if (n == 0 && !rooted) {
    out[0] = '.';
    return {out.data(), 1};
  }
  size_t w = 0;       // bytes written to out
  size_t r = 0;       // next byte of in to read
  size_t dotdot = 0;  // out[0, dotdot) cannot be backtracked over by ".."
  if (rooted) {
    out[w++] = '/';
    dotdot = 1;
    if (!force_rooted) r = 1;
  }
  while (r < n) {
    if (in[r] == '/') {
      ++r;
    } else if (in[r] == '.' && (r + 1 == n || in[r + 1] == '/')) {
      ++r;  // "." element
    } else if (in[r] == '.' && in[r + 1] == '.' && (r + 2 == n || in[r + 2] == '/')) {
      r += 2;  // ".." element
      if (w > dotdot) {
        --w;
        while (w > dotdot && out[w] != '/') --w;
      } else if (!rooted) {
        if (w > 0) out[w++] = '/';
        out[w++] = '.';
        out[w++] = '.';
        dotdot = w;
      }
    } else {
      if ((rooted && w != 1) || (!rooted && w != 0)) out[w++] = '/';
      for (; r < n && in[r] != '/'; ++r) out[w++] = in[r];
    }
  }
  if (w == 0) {
    out[w++] = '.';
  }
  return {out.data(), w};
}

}  // namespace

std::string_view path_clean(std::string_view in, std::span<char> out) {
  return clean(in, out, false);
}

std::string_view path_clean_keep_trailing_slash(std::string_view in, std::span<char> out) {
  if (out.size() < in.size() + 1) return {};
  std::string_view c = clean(in, out, false);
  if (!in.empty() && in.back() == '/' && c != "/") {
    out[c.size()] = '/';
    return {out.data(), c.size() + 1};
  }
  return c;
}

std::string_view path_clean_rooted(std::string_view in, std::span<char> out) {
  return clean(in, out, true);
}

}  // namespace ringside::http1
