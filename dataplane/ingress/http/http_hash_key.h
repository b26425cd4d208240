#pragma once
// http_hash_key: the consistent-hash key of an HTTP invocation from the request header the
// target app id's policy names (case-insensitive match; upstream/request_hash_key.h).
#include <cstdint>
#include <string_view>

#include "dataplane/http1/request_parser.h"
#include "dataplane/upstream/request_hash_key.h"

namespace ringside::invoke {

inline uint64_t http_hash_key(const ShardServices* svc, std::string_view app_id, std::string_view ns,
                              const http1::RequestHead& head) {
  return upstream::request_hash_key(svc, app_id, ns, [&](std::string_view lower_name) {
    const http1::Header* h = head.find(lower_name);
    return h ? h->value : std::string_view();
  });
}

}  // namespace ringside::invoke
