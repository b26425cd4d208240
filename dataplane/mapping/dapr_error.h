#pragma once
// Dapr's JSON error body: {"errorCode":"<CODE>","message":"<text>"} (spec §5.7).
#include <string_view>

#include "dataplane/mem/buffer.h"

namespace ringside::invoke {

inline constexpr std::string_view kErrDirectInvoke = "ERR_DIRECT_INVOKE";

// Appends the JSON body (message JSON-escaped).
bool append_dapr_error_json(mem::Buffer* out, std::string_view code, std::string_view message);
// Appends `s` JSON-escaped (no quotes).
bool append_json_escaped(mem::Buffer* out, std::string_view s);

}  // namespace ringside::invoke
