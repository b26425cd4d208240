// Decoders of the unary invocation messages. Each merge_* walks one message's fields once;
// map and repeated fields are only validated here and iterated later from the wire.
#include "dataplane/codec/invoke_messages.h"

namespace ringside::codec {
namespace detail {
namespace {

using wire::Reader;
using wire::WireType;

// Reads a length-delimited payload for a sub-message one level below `depth`.
bool read_submessage(Reader& r, int depth, std::string_view* payload) {
  return depth + 1 <= wire::kMaxDepth && r.read_len(payload);
}

bool read_int32(Reader& r, int32_t* out) {
  uint64_t v;
  if (!r.read_varint(&v)) return false;
  *out = static_cast<int32_t>(static_cast<uint32_t>(v));  // low 32 bits, as libprotobuf
  return true;
}

// dapr.proto.internals.v1.ListStringValue: values = 1 (repeated string).
bool check_string_list(std::string_view in, int depth) {
  Reader r(in);
  while (!r.at_end()) {
    uint32_t f;
    WireType wt;
    if (!r.read_tag(&f, &wt)) return false;
    if (f == 1 && wt == WireType::kLen) {
      std::string_view s;
      if (!r.read_len(&s)) return false;
    } else if (!r.skip(f, wt, depth)) {
      return false;
    }
  }
  return true;
}

// One entry of map<string, ListStringValue>: key = 1, value = 2.
bool check_string_list_entry(std::string_view in, int depth) {
  Reader r(in);
  while (!r.at_end()) {
    uint32_t f;
    WireType wt;
    if (!r.read_tag(&f, &wt)) return false;
    std::string_view s;
    if (f == 1 && wt == WireType::kLen) {
      if (!r.read_len(&s)) return false;
    } else if (f == 2 && wt == WireType::kLen) {
      if (!read_submessage(r, depth, &s) || !check_string_list(s, depth + 1)) return false;
    } else if (!r.skip(f, wt, depth)) {
      return false;
    }
  }
  return true;
}

// Validates one map entry field occurrence and counts it.
bool read_string_list_entry(Reader& r, int depth, uint32_t* count) {
  std::string_view entry;
  if (!read_submessage(r, depth, &entry) || !check_string_list_entry(entry, depth + 1)) return false;
  ++*count;
  return true;
}

bool merge_http_extension(std::string_view in, HttpExtensionView* out, int depth) {
  Reader r(in);
  while (!r.at_end()) {
    uint32_t f;
    WireType wt;
    if (!r.read_tag(&f, &wt)) return false;
    if (f == 1 && wt == WireType::kVarint) {
      if (!read_int32(r, &out->verb)) return false;
    } else if (f == 2 && wt == WireType::kLen) {
      if (!r.read_len(&out->querystring)) return false;
    } else if (!r.skip(f, wt, depth)) {
      return false;
    }
  }
  return true;
}

// dapr.proto.internals.v1.Actor: actor_type = 1, actor_id = 2.
bool merge_actor(std::string_view in, InternalInvokeRequestView* out, int depth) {
  Reader r(in);
  while (!r.at_end()) {
    uint32_t f;
    WireType wt;
    if (!r.read_tag(&f, &wt)) return false;
    if (f == 1 && wt == WireType::kLen) {
      if (!r.read_len(&out->actor_type)) return false;
    } else if (f == 2 && wt == WireType::kLen) {
      if (!r.read_len(&out->actor_id)) return false;
    } else if (!r.skip(f, wt, depth)) {
      return false;
    }
  }
  return true;
}

// Status: code = 1, message = 2, details = 3 (repeated Any, validated only).
bool merge_status(std::string_view in, StatusView* out, int depth) {
  Reader r(in);
  while (!r.at_end()) {
    uint32_t f;
    WireType wt;
    if (!r.read_tag(&f, &wt)) return false;
    if (f == 1 && wt == WireType::kVarint) {
      if (!read_int32(r, &out->code)) return false;
    } else if (f == 2 && wt == WireType::kLen) {
      if (!r.read_len(&out->message)) return false;
    } else if (f == 3 && wt == WireType::kLen) {
      std::string_view s;
      AnyView scratch;
      if (!read_submessage(r, depth, &s) || !merge_any(s, &scratch, depth + 1)) return false;
    } else if (!r.skip(f, wt, depth)) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool merge_any(std::string_view in, AnyView* out, int depth) {
  Reader r(in);
  while (!r.at_end()) {
    uint32_t f;
    WireType wt;
    if (!r.read_tag(&f, &wt)) return false;
    if (f == 1 && wt == WireType::kLen) {
      if (!r.read_len(&out->type_url)) return false;
    } else if (f == 2 && wt == WireType::kLen) {
      if (!r.read_len(&out->value)) return false;
    } else if (!r.skip(f, wt, depth)) {
      return false;
    }
  }
  return true;
}

bool merge_invoke_request(std::string_view in, InvokeRequestView* out, int depth) {
  Reader r(in);
  while (!r.at_end()) {
    uint32_t f;
    WireType wt;
    if (!r.read_tag(&f, &wt)) return false;
    std::string_view s;
    if (f == 1 && wt == WireType::kLen) {
      if (!r.read_len(&out->method)) return false;
    } else if (f == 2 && wt == WireType::kLen) {
      out->data.present = true;
      if (!read_submessage(r, depth, &s) || !merge_any(s, &out->data, depth + 1)) return false;
    } else if (f == 3 && wt == WireType::kLen) {
      if (!r.read_len(&out->content_type)) return false;
    } else if (f == 4 && wt == WireType::kLen) {
      out->http_extension.present = true;
      if (!read_submessage(r, depth, &s) || !merge_http_extension(s, &out->http_extension, depth + 1))
        return false;
    } else if (!r.skip(f, wt, depth)) {
      return false;
    }
  }
  return true;
}

bool merge_invoke_response(std::string_view in, InvokeResponseView* out, int depth) {
  Reader r(in);
  while (!r.at_end()) {
    uint32_t f;
    WireType wt;
    if (!r.read_tag(&f, &wt)) return false;
    std::string_view s;
    if (f == 1 && wt == WireType::kLen) {
      out->data.present = true;
      if (!read_submessage(r, depth, &s) || !merge_any(s, &out->data, depth + 1)) return false;
    } else if (f == 2 && wt == WireType::kLen) {
      if (!r.read_len(&out->content_type)) return false;
    } else if (!r.skip(f, wt, depth)) {
      return false;
    }
  }
  return true;
}

bool merge_internal_invoke_request(std::string_view in, InternalInvokeRequestView* out, int depth) {
  Reader r(in);
  while (!r.at_end()) {
    uint32_t f;
    WireType wt;
    if (!r.read_tag(&f, &wt)) return false;
    std::string_view s;
    if (f == 1 && wt == WireType::kVarint) {
      if (!read_int32(r, &out->ver)) return false;
    } else if (f == 2 && wt == WireType::kLen) {
      if (!read_string_list_entry(r, depth, &out->metadata_entries)) return false;
    } else if (f == 3 && wt == WireType::kLen) {
      out->has_message = true;
      if (!read_submessage(r, depth, &s) || !merge_invoke_request(s, &out->message, depth + 1))
        return false;
    } else if (f == 4 && wt == WireType::kLen) {
      out->has_actor = true;
      if (!read_submessage(r, depth, &s) || !merge_actor(s, out, depth + 1)) return false;
    } else if (!r.skip(f, wt, depth)) {
      return false;
    }
  }
  return true;
}

bool merge_internal_invoke_response(std::string_view in, InternalInvokeResponseView* out, int depth) {
  Reader r(in);
  while (!r.at_end()) {
    uint32_t f;
    WireType wt;
    if (!r.read_tag(&f, &wt)) return false;
    std::string_view s;
    if (f == 1 && wt == WireType::kLen) {
      out->status.present = true;
      if (!read_submessage(r, depth, &s) || !merge_status(s, &out->status, depth + 1)) return false;
    } else if (f == 2 && wt == WireType::kLen) {
      if (!read_string_list_entry(r, depth, &out->header_entries)) return false;
    } else if (f == 3 && wt == WireType::kLen) {
      if (!read_string_list_entry(r, depth, &out->trailer_entries)) return false;
    } else if (f == 4 && wt == WireType::kLen) {
      out->has_message = true;
      if (!read_submessage(r, depth, &s) || !merge_invoke_response(s, &out->message, depth + 1))
        return false;
    } else if (!r.skip(f, wt, depth)) {
      return false;
    }
  }
  return true;
}

}  // namespace detail

void set_scope(InternalInvokeRequestView* v, const MessageScope& scope) { v->scope = scope; }

void set_scope(InternalInvokeResponseView* v, const MessageScope& scope) {
  v->scope = scope;
  v->status.scope = scope.child(1);
}

bool decode_internal_invoke_request(std::string_view in, InternalInvokeRequestView* out) {
  *out = InternalInvokeRequestView{};
  set_scope(out, MessageScope{in});
  return detail::merge_internal_invoke_request(in, out, 0);
}

bool decode_internal_invoke_response(std::string_view in, InternalInvokeResponseView* out) {
  *out = InternalInvokeResponseView{};
  set_scope(out, MessageScope{in});
  return detail::merge_internal_invoke_response(in, out, 0);
}

bool decode_invoke_request(std::string_view in, InvokeRequestView* out) {
  *out = InvokeRequestView{};
  return detail::merge_invoke_request(in, out, 0);
}

bool decode_invoke_response(std::string_view in, InvokeResponseView* out) {
  *out = InvokeResponseView{};
  return detail::merge_invoke_response(in, out, 0);
}

}  // namespace ringside::codec
