#pragma once
// Writes a method as the path of the request toward the app: "/" + method, with bytes that
// may not appear raw in a path percent-encoded (as Go's url.URL.EscapedPath would send them).
#include <string_view>

#include "dataplane/mem/buffer.h"

namespace ringside::invoke {

bool append_method_path(mem::Buffer* out, std::string_view method);

}  // namespace ringside::invoke
