#pragma once
// Serialisers that append HTTP/1.1 framing to a mem::Buffer (response heads to HTTP clients,
// request heads and chunked bodies to the app). Each call reserves once and writes in place.
// Every function returns false only when the buffer cannot grow (pool exhausted); what was
// appended before a false return must be discarded by the caller.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/mem/buffer.h"

namespace ringside::http1 {

// "HTTP/1.1 <status> <reason>\r\n"; unknown codes get Go's "status code <status>".
bool append_status_line(mem::Buffer& buf, int status);

// "<method> <target> HTTP/1.1\r\n". target must already be a valid origin-form ("/p?q").
bool append_request_line(mem::Buffer& buf, std::string_view method, std::string_view target);
// Same with the target built from a path (must start with '/') and a raw query ('?' added when
// the query is not empty).
bool append_request_line(mem::Buffer& buf, std::string_view method, std::string_view path,
                         std::string_view query);

// True if name is a token and value has no CR, LF, NUL or other CTL (HTAB allowed), i.e. the
// field can be written without opening a header-injection hole.
bool is_valid_header_field(std::string_view name, std::string_view value);

enum class AppendHeader { kOk, kRejected, kNoMemory };
// "<name>: <value>\r\n" after is_valid_header_field(); kRejected writes nothing.
AppendHeader append_header(mem::Buffer& buf, std::string_view name, std::string_view value);
// "Content-Length: <n>\r\n".
bool append_content_length(mem::Buffer& buf, uint64_t n);
// The empty line that ends a head.
bool append_end_of_head(mem::Buffer& buf);

// "<hex size>\r\n" — the framing before size payload bytes (for writev / zero-copy bodies).
// size must not be 0 (that is the last chunk).
bool append_chunk_header(mem::Buffer& buf, uint64_t size);
// "\r\n" after a chunk's payload.
bool append_chunk_trailer(mem::Buffer& buf);
// One complete chunk: header, payload, CRLF. An empty payload appends nothing (it would end the
// body).
bool append_chunk(mem::Buffer& buf, std::span<const uint8_t> payload);
// "0\r\n\r\n": the last chunk with no trailers.
bool append_last_chunk(mem::Buffer& buf);

}  // namespace ringside::http1
