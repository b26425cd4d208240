// Debian's Abseil is built with ABSL_OPTION_USE_STD_STRING_VIEW 0, so absl::string_view is a
// distinct type from std::string_view. These adapters convert at the seam (no copies).
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace ringside::config {

inline absl::string_view to_absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view to_std(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace ringside::config
