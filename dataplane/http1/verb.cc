#include "dataplane/http1/verb.h"

#include "dataplane/http1/char_class.h"

namespace ringside::http1 {
namespace {

constexpr std::string_view kNames[] = {"NONE",   "GET",     "HEAD",  "POST",  "PUT",
                                       "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};

}  // namespace

Verb verb_from_method(std::string_view method) {
  // Exact match first: clients almost always send upper-case methods.
  for (int i = 0; i < 10; ++i)
    if (method == kNames[i]) return static_cast<Verb>(i);
  for (int i = 0; i < 10; ++i)
    if (iequals(method, kNames[i])) return static_cast<Verb>(i);
  return Verb::kPost;
}

std::string_view verb_name(Verb verb) {
  int i = static_cast<int>(verb);
  return (i >= 0 && i < 10) ? kNames[i] : kNames[3];
}

}  // namespace ringside::http1
