// Encoders of the unary invocation messages. Sizes of nested messages are recomputed when the
// length prefix is written (cheap arithmetic, nesting is at most three levels), which keeps the
// encoders free of scratch storage.
#include <cstring>

#include "dataplane/codec/invoke_messages.h"

namespace ringside::codec {
namespace {

using namespace wire;

size_t string_field_size(uint32_t field, std::string_view s) {
  return s.empty() ? 0 : len_field_size(field, s.size());
}

uint8_t* write_string_field(uint32_t field, std::string_view s, uint8_t* out) {
  return s.empty() ? out : write_bytes_field(field, s, out);
}

size_t int32_field_size(uint32_t field, int32_t v) {
  return v == 0 ? 0 : varint_field_size(field, int32_wire(v));
}

uint8_t* write_int32_field(uint32_t field, int32_t v, uint8_t* out) {
  return v == 0 ? out : write_varint_field(field, int32_wire(v), out);
}

// ListStringValue: every value written, empty ones included (repeated).
size_t string_list_size(std::span<const std::string_view> values) {
  size_t n = 0;
  for (std::string_view v : values) n += len_field_size(1, v.size());
  return n;
}

// Map entries always carry both key and value, as libprotobuf and Go write them.
size_t map_entry_size(const MetadataEntry& e) {
  return len_field_size(1, e.key.size()) + len_field_size(2, string_list_size(e.values));
}

size_t string_list_map_size(uint32_t field, std::span<const MetadataEntry> entries) {
  size_t n = 0;
  for (const MetadataEntry& e : entries) n += len_field_size(field, map_entry_size(e));
  return n;
}

uint8_t* write_string_list_map(uint32_t field, std::span<const MetadataEntry> entries, uint8_t* out) {
  for (const MetadataEntry& e : entries) {
    out = write_len_header(field, map_entry_size(e), out);
    out = write_bytes_field(1, e.key, out);
    out = write_len_header(2, string_list_size(e.values), out);
    for (std::string_view v : e.values) out = write_bytes_field(1, v, out);
  }
  return out;
}

size_t any_field_size(uint32_t field, const AnyFields& a) {
  return a.present ? len_field_size(field, encoded_size(a)) : 0;
}

uint8_t* write_any_field(uint32_t field, const AnyFields& a, uint8_t* out) {
  if (!a.present) return out;
  return encode(a, write_len_header(field, encoded_size(a), out));
}

size_t http_extension_size(const InvokeRequestFields& m) {
  return int32_field_size(1, m.verb) + string_field_size(2, m.querystring);
}

// InvokeRequest.http_extension (field 4), when present.
uint8_t* write_http_extension(const InvokeRequestFields& m, uint8_t* out) {
  if (!m.has_http_extension) return out;
  out = write_len_header(4, http_extension_size(m), out);
  out = write_int32_field(1, m.verb, out);
  return write_string_field(2, m.querystring, out);
}

size_t status_size(const StatusFields& s) {
  size_t n = int32_field_size(1, s.code) + string_field_size(2, s.message);
  for (const AnyFields& d : s.details) n += len_field_size(3, encoded_size(d));
  return n;
}

uint8_t* write_status(const StatusFields& s, uint8_t* out) {
  out = write_int32_field(1, s.code, out);
  out = write_string_field(2, s.message, out);
  for (const AnyFields& d : s.details) out = encode(d, write_len_header(3, encoded_size(d), out));
  return out;
}

}  // namespace

size_t encoded_size(const AnyFields& m) {
  return string_field_size(1, m.type_url) + string_field_size(2, m.value);
}

uint8_t* encode(const AnyFields& m, uint8_t* out) {
  out = write_string_field(1, m.type_url, out);
  return write_string_field(2, m.value, out);
}

size_t encoded_size(const InvokeRequestFields& m) {
  size_t n = string_field_size(1, m.method) + any_field_size(2, m.data) +
             string_field_size(3, m.content_type);
  if (m.has_http_extension) n += len_field_size(4, http_extension_size(m));
  return n;
}

uint8_t* encode(const InvokeRequestFields& m, uint8_t* out) {
  out = write_string_field(1, m.method, out);
  out = write_any_field(2, m.data, out);
  out = write_string_field(3, m.content_type, out);
  return write_http_extension(m, out);
}

size_t encoded_size(const InvokeResponseFields& m) {
  return any_field_size(1, m.data) + string_field_size(2, m.content_type);
}

uint8_t* encode(const InvokeResponseFields& m, uint8_t* out) {
  out = write_any_field(1, m.data, out);
  return write_string_field(2, m.content_type, out);
}

size_t encoded_size(const InternalInvokeRequestFields& m) {
  return int32_field_size(1, m.ver) + string_list_map_size(2, m.metadata) +
         len_field_size(3, encoded_size(m.message));
}

uint8_t* encode(const InternalInvokeRequestFields& m, uint8_t* out) {
  out = write_int32_field(1, m.ver, out);
  out = write_string_list_map(2, m.metadata, out);
  out = write_len_header(3, encoded_size(m.message), out);
  return encode(m.message, out);
}

size_t encoded_size(const InternalInvokeResponseFields& m) {
  size_t n = len_field_size(1, status_size(m.status)) + string_list_map_size(2, m.headers) +
             string_list_map_size(3, m.trailers);
  if (m.has_message) n += len_field_size(4, encoded_size(m.message));
  return n;
}

uint8_t* encode(const InternalInvokeResponseFields& m, uint8_t* out) {
  out = write_len_header(1, status_size(m.status), out);
  out = write_status(m.status, out);
  out = write_string_list_map(2, m.headers, out);
  out = write_string_list_map(3, m.trailers, out);
  if (m.has_message) {
    out = write_len_header(4, encoded_size(m.message), out);
    out = encode(m.message, out);
  }
  return out;
}

// ---- body last -----------------------------------------------------------------------------

namespace {

// The Any with its value's key and length but not its bytes (a present Any with an empty value
// has none to leave out).
uint8_t* write_any_field_but_value(uint32_t field, const AnyFields& a, uint8_t* out) {
  if (!a.present) return out;
  out = write_len_header(field, encoded_size(a), out);
  out = write_string_field(1, a.type_url, out);
  return a.value.empty() ? out : write_len_header(2, a.value.size(), out);
}

size_t any_body_bytes(const AnyFields& a) { return a.present ? a.value.size() : 0; }

}  // namespace

size_t body_bytes(const InternalInvokeRequestFields& m) { return any_body_bytes(m.message.data); }

size_t body_bytes(const InternalInvokeResponseFields& m) {
  return m.has_message ? any_body_bytes(m.message.data) : 0;
}

uint8_t* encode_all_but_body(const InternalInvokeRequestFields& m, uint8_t* out) {
  const InvokeRequestFields& r = m.message;
  out = write_int32_field(1, m.ver, out);
  out = write_string_list_map(2, m.metadata, out);
  out = write_len_header(3, encoded_size(r), out);
  out = write_string_field(1, r.method, out);
  out = write_string_field(3, r.content_type, out);
  out = write_http_extension(r, out);
  return write_any_field_but_value(2, r.data, out);
}

uint8_t* encode_all_but_body(const InternalInvokeResponseFields& m, uint8_t* out) {
  out = write_len_header(1, status_size(m.status), out);
  out = write_status(m.status, out);
  out = write_string_list_map(2, m.headers, out);
  out = write_string_list_map(3, m.trailers, out);
  if (!m.has_message) return out;
  out = write_len_header(4, encoded_size(m.message), out);
  out = write_string_field(2, m.message.content_type, out);
  return write_any_field_but_value(1, m.message.data, out);
}

}  // namespace ringside::codec
