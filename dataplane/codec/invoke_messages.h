#pragma once
// Zero-copy codec for the hot service-invocation messages (spec §2.2, §3, §4.4):
//   dapr.proto.internals.v1.InternalInvokeRequest / InternalInvokeResponse  (CallLocal)
//   dapr.proto.common.v1.InvokeRequest / InvokeResponse                     (OnInvoke, InvokeService)
//
// Decoders fill *View structs whose string_views point into the input: the input must outlive
// the view. Nothing is copied or allocated. Repeated and map fields are not materialised; the
// views iterate them from the wire on demand (message_scope.h).
//
// Decoding follows libprotobuf 3.21 (cross-checked by the differential tests and the fuzzer):
//  - unknown fields, and known fields sent with an unexpected wire type, are skipped;
//  - a singular field seen twice: the last scalar/string wins, sub-messages merge;
//  - malformed input (bad varint, length past the end, bad wire type, field number 0, an
//    unmatched end-group, nesting deeper than 100) makes the decoder return false.
//  One deliberate difference: string fields are not checked for valid UTF-8 (libprotobuf and
//  Go reject such messages; we pass the bytes through). Use is_valid_utf8() where it matters.
//
// Encoders take *Fields structs of views; encoded_size() gives the exact size and encode()
// writes that many bytes to caller storage, returning the end pointer. Output is canonical
// proto3 as libprotobuf writes it (field-number order, default scalars omitted, map entries
// always carry key and value), so encoded_size() == libprotobuf's ByteSizeLong().
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/codec/message_scope.h"

namespace ringside::codec {

// ---- decoded views ------------------------------------------------------------------------

// google.protobuf.Any: type_url empty means value is the raw body.
struct AnyView {
  bool present = false;        // the field was on the wire (possibly empty)
  std::string_view type_url;   // Any.type_url (1)
  std::string_view value;      // Any.value (2)
};

// dapr.proto.common.v1.HTTPExtension.
struct HttpExtensionView {
  bool present = false;          // the field was on the wire
  int32_t verb = 0;              // HTTPExtension.Verb (1); open enum, any value kept
  std::string_view querystring;  // raw query without '?' (2)
};

// dapr.proto.common.v1.InvokeRequest.
struct InvokeRequestView {
  std::string_view method;           // method / path on the target app (1)
  AnyView data;                      // body (2)
  std::string_view content_type;     // MIME type of the body (3)
  HttpExtensionView http_extension;  // verb + query (4)
};

// dapr.proto.common.v1.InvokeResponse.
struct InvokeResponseView {
  AnyView data;                   // body (1)
  std::string_view content_type;  // MIME type of the body (2)
};

// dapr.proto.internals.v1.Status.
struct StatusView {
  bool present = false;      // the field was on the wire
  int32_t code = 0;          // HTTP status (>= 100) or gRPC code (1)
  std::string_view message;  // error message (2)
  MessageScope scope;        // where the Status bytes live, for the details iterator

  // Calls f(const AnyView&) for every entry of `details` (3), in wire order.
  template <class F>
  void for_each_detail(F&& f) const;
};

// dapr.proto.internals.v1.InternalInvokeRequest.
struct InternalInvokeRequestView {
  int32_t ver = 0;                 // APIVersion (1); daprd sends 1
  uint32_t metadata_entries = 0;   // map entries of `metadata` (2) on the wire
  bool has_message = false;        // `message` (3) was on the wire
  InvokeRequestView message;       // the invocation (3)
  bool has_actor = false;          // `actor` (4) was on the wire
  std::string_view actor_type;     // Actor.actor_type (4.1)
  std::string_view actor_id;       // Actor.actor_id (4.2)
  MessageScope scope;              // where the message bytes live, for the iterators

  // Calls f(std::string_view key, std::string_view value) for every value of every metadata
  // entry, in wire order.
  template <class F>
  void for_each_metadata(F&& f) const { for_each_string_list_value(scope, 2, f); }
  // Calls f(std::string_view key, StringListView values) per metadata entry (entries with no
  // values included).
  template <class F>
  void for_each_metadata_entry(F&& f) const { for_each_string_list_entry(scope, 2, f); }
};

// dapr.proto.internals.v1.InternalInvokeResponse.
struct InternalInvokeResponseView {
  StatusView status;               // app result (1)
  uint32_t header_entries = 0;     // map entries of `headers` (2) on the wire
  uint32_t trailer_entries = 0;    // map entries of `trailers` (3) on the wire
  bool has_message = false;        // `message` (4) was on the wire
  InvokeResponseView message;      // body and content type (4)
  MessageScope scope;              // where the message bytes live, for the iterators

  // f(std::string_view key, std::string_view value), per value, wire order.
  template <class F>
  void for_each_header(F&& f) const { for_each_string_list_value(scope, 2, f); }
  template <class F>
  void for_each_trailer(F&& f) const { for_each_string_list_value(scope, 3, f); }
  // f(std::string_view key, StringListView values), per entry.
  template <class F>
  void for_each_header_entry(F&& f) const { for_each_string_list_entry(scope, 2, f); }
  template <class F>
  void for_each_trailer_entry(F&& f) const { for_each_string_list_entry(scope, 3, f); }
};

// Decoders: reset *out, then fill it. False for malformed input (out is then unspecified).
bool decode_internal_invoke_request(std::string_view in, InternalInvokeRequestView* out);
bool decode_internal_invoke_response(std::string_view in, InternalInvokeResponseView* out);
bool decode_invoke_request(std::string_view in, InvokeRequestView* out);    // OnInvoke request
bool decode_invoke_response(std::string_view in, InvokeResponseView* out);  // OnInvoke answer

// Points a view's iterators at `scope`; decoders of enclosing messages call this.
void set_scope(InternalInvokeRequestView* v, const MessageScope& scope);
void set_scope(InternalInvokeResponseView* v, const MessageScope& scope);

// ---- fields to encode ---------------------------------------------------------------------

// One map<string, ListStringValue> entry.
struct MetadataEntry {
  std::string_view key;                      // header / metadata name
  std::span<const std::string_view> values;  // all its values, in order
};

// google.protobuf.Any; written whenever present, even if empty.
struct AnyFields {
  std::string_view type_url;  // "" for raw bytes
  std::string_view value;     // the body
  bool present = true;        // false: field omitted
};

// dapr.proto.common.v1.InvokeRequest (+ its HTTPExtension).
struct InvokeRequestFields {
  std::string_view method;           // method / path on the target app
  AnyFields data;                    // body
  std::string_view content_type;     // MIME type of the body
  bool has_http_extension = false;   // write http_extension (needed for HTTP apps)
  int32_t verb = 0;                  // HTTPExtension.Verb
  std::string_view querystring;      // raw query without '?'
};

// dapr.proto.internals.v1.InternalInvokeRequest; `message` is always written (required).
struct InternalInvokeRequestFields {
  int32_t ver = 1;                              // APIVersion V1
  std::span<const MetadataEntry> metadata;      // must be non-empty for CallLocalStream (§2.3)
  InvokeRequestFields message;                  // the invocation
};

// dapr.proto.internals.v1.Status; always written (callers require it, §2.3).
struct StatusFields {
  int32_t code = 0;                     // HTTP status or gRPC code
  std::string_view message;             // error message
  std::span<const AnyFields> details;   // error details (each written even if not `present`)
};

// dapr.proto.common.v1.InvokeResponse.
struct InvokeResponseFields {
  AnyFields data;                  // body
  std::string_view content_type;   // MIME type of the body
};

// dapr.proto.internals.v1.InternalInvokeResponse.
struct InternalInvokeResponseFields {
  StatusFields status;                       // app result
  std::span<const MetadataEntry> headers;    // app response headers / gRPC header metadata
  std::span<const MetadataEntry> trailers;   // gRPC trailer metadata
  bool has_message = true;                   // write `message`
  InvokeResponseFields message;              // body and content type
};

size_t encoded_size(const InternalInvokeRequestFields& m);
uint8_t* encode(const InternalInvokeRequestFields& m, uint8_t* out);  // returns end
size_t encoded_size(const InternalInvokeResponseFields& m);
uint8_t* encode(const InternalInvokeResponseFields& m, uint8_t* out);
size_t encoded_size(const InvokeRequestFields& m);
uint8_t* encode(const InvokeRequestFields& m, uint8_t* out);
size_t encoded_size(const InvokeResponseFields& m);
uint8_t* encode(const InvokeResponseFields& m, uint8_t* out);
size_t encoded_size(const AnyFields& m);
uint8_t* encode(const AnyFields& m, uint8_t* out);

// Body-last encoding (issue 11: one copy of the body fewer). The same message with the body
// (message.data.value) moved to the end: InvokeRequest writes method, content_type,
// http_extension, then data; InvokeResponse content_type, then data; every enclosing message
// already ends with `message`. Only the field order differs from encode(), and protobuf parsers
// accept fields in any order (libprotobuf, Go), so the callee decodes the same message and the
// size is encoded_size(m). encode_all_but_body() writes its first encoded_size(m) -
// body_bytes(m) bytes; the body's bytes, sent from wherever they already are, complete it.
size_t body_bytes(const InternalInvokeRequestFields& m);
size_t body_bytes(const InternalInvokeResponseFields& m);
uint8_t* encode_all_but_body(const InternalInvokeRequestFields& m, uint8_t* out);  // returns end
uint8_t* encode_all_but_body(const InternalInvokeResponseFields& m, uint8_t* out);

// ---- internals shared with the iterators and stream_messages.cc ---------------------------
namespace detail {
// Merge-decoders: decode `in` into *out without resetting it (protobuf merge semantics).
// `depth` is the nesting level of `in` (0 = top level).
bool merge_any(std::string_view in, AnyView* out, int depth);
bool merge_invoke_request(std::string_view in, InvokeRequestView* out, int depth);
bool merge_invoke_response(std::string_view in, InvokeResponseView* out, int depth);
bool merge_internal_invoke_request(std::string_view in, InternalInvokeRequestView* out, int depth);
bool merge_internal_invoke_response(std::string_view in, InternalInvokeResponseView* out, int depth);
}  // namespace detail

template <class F>
void StatusView::for_each_detail(F&& f) const {
  for_each_field_payload(scope, 3, [&](std::string_view payload) {
    AnyView any;
    any.present = true;
    detail::merge_any(payload, &any, 0);  // validated by the decoder already
    f(static_cast<const AnyView&>(any));
  });
}

}  // namespace ringside::codec
