#pragma once
// UTF-8 validity as protobuf defines it for proto3 `string` fields. libprotobuf and Go both
// refuse to parse (Go also to serialize) a message whose string field is not valid UTF-8, so
// bytes that may not be (HTTP header values with obs-text, for example) must be checked
// before they are put into metadata sent to a stock daprd.
#include <string_view>

namespace ringside::codec {

// True if s is well-formed UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_valid_utf8(std::string_view s);

}  // namespace ringside::codec
