// CallLocalStream messages and InvokeServiceRequest: thin wrappers around the unary codecs.
#include "dataplane/codec/stream_messages.h"

namespace ringside::codec {
namespace {

using wire::Reader;
using wire::WireType;

bool merge_stream_payload(std::string_view in, StreamPayloadView* out, int depth) {
  Reader r(in);
  while (!r.at_end()) {
    uint32_t f;
    WireType wt;
    if (!r.read_tag(&f, &wt)) return false;
    if (f == 1 && wt == WireType::kLen) {
      if (!r.read_len(&out->data)) return false;
    } else if (f == 2 && wt == WireType::kVarint) {
      if (!r.read_varint(&out->seq)) return false;
    } else if (!r.skip(f, wt, depth)) {
      return false;
    }
  }
  return true;
}

// Reads the payload of a sub-message field one level below the top.
bool read_top_submessage(Reader& r, std::string_view* payload) { return r.read_len(payload); }

size_t optional_message_size(uint32_t field, bool present, size_t body) {
  return present ? wire::len_field_size(field, body) : 0;
}

}  // namespace

bool decode_stream_payload(std::string_view in, StreamPayloadView* out) {
  *out = StreamPayloadView{};
  return merge_stream_payload(in, out, 0);
}

bool decode_internal_invoke_request_stream(std::string_view in, InternalInvokeRequestStreamView* out) {
  *out = InternalInvokeRequestStreamView{};
  set_scope(&out->request, MessageScope{in}.child(1));
  Reader r(in);
  while (!r.at_end()) {
    uint32_t f;
    WireType wt;
    if (!r.read_tag(&f, &wt)) return false;
    std::string_view s;
    if (f == 1 && wt == WireType::kLen) {
      out->has_request = true;
      if (!read_top_submessage(r, &s) || !detail::merge_internal_invoke_request(s, &out->request, 1))
        return false;
    } else if (f == 2 && wt == WireType::kLen) {
      out->payload.present = true;
      if (!read_top_submessage(r, &s) || !merge_stream_payload(s, &out->payload, 1)) return false;
    } else if (!r.skip(f, wt, 0)) {
      return false;
    }
  }
  return true;
}

bool decode_internal_invoke_response_stream(std::string_view in, InternalInvokeResponseStreamView* out) {
  *out = InternalInvokeResponseStreamView{};
  set_scope(&out->response, MessageScope{in}.child(1));
  Reader r(in);
  while (!r.at_end()) {
    uint32_t f;
    WireType wt;
    if (!r.read_tag(&f, &wt)) return false;
    std::string_view s;
    if (f == 1 && wt == WireType::kLen) {
      out->has_response = true;
      if (!read_top_submessage(r, &s) || !detail::merge_internal_invoke_response(s, &out->response, 1))
        return false;
    } else if (f == 2 && wt == WireType::kLen) {
      out->payload.present = true;
      if (!read_top_submessage(r, &s) || !merge_stream_payload(s, &out->payload, 1)) return false;
    } else if (!r.skip(f, wt, 0)) {
      return false;
    }
  }
  return true;
}

bool decode_invoke_service_request(std::string_view in, InvokeServiceRequestView* out) {
  *out = InvokeServiceRequestView{};
  Reader r(in);
  while (!r.at_end()) {
    uint32_t f;
    WireType wt;
    if (!r.read_tag(&f, &wt)) return false;
    std::string_view s;
    if (f == 1 && wt == WireType::kLen) {
      if (!r.read_len(&out->id)) return false;
    } else if (f == 3 && wt == WireType::kLen) {
      out->has_message = true;
      if (!read_top_submessage(r, &s) || !detail::merge_invoke_request(s, &out->message, 1)) return false;
    } else if (!r.skip(f, wt, 0)) {
      return false;
    }
  }
  return true;
}

size_t encoded_size(const StreamPayloadFields& m) {
  return (m.data.empty() ? 0 : wire::len_field_size(1, m.data.size())) +
         (m.seq == 0 ? 0 : wire::varint_field_size(2, m.seq));
}

uint8_t* encode(const StreamPayloadFields& m, uint8_t* out) {
  if (!m.data.empty()) out = wire::write_bytes_field(1, m.data, out);
  if (m.seq != 0) out = wire::write_varint_field(2, m.seq, out);
  return out;
}

size_t encoded_size(const InternalInvokeRequestStreamFields& m) {
  return optional_message_size(1, m.request != nullptr, m.request ? encoded_size(*m.request) : 0) +
         optional_message_size(2, m.has_payload, encoded_size(m.payload));
}

uint8_t* encode(const InternalInvokeRequestStreamFields& m, uint8_t* out) {
  if (m.request) out = encode(*m.request, wire::write_len_header(1, encoded_size(*m.request), out));
  if (m.has_payload) out = encode(m.payload, wire::write_len_header(2, encoded_size(m.payload), out));
  return out;
}

size_t encoded_size(const InternalInvokeResponseStreamFields& m) {
  return optional_message_size(1, m.response != nullptr, m.response ? encoded_size(*m.response) : 0) +
         optional_message_size(2, m.has_payload, encoded_size(m.payload));
}

uint8_t* encode(const InternalInvokeResponseStreamFields& m, uint8_t* out) {
  if (m.response) out = encode(*m.response, wire::write_len_header(1, encoded_size(*m.response), out));
  if (m.has_payload) out = encode(m.payload, wire::write_len_header(2, encoded_size(m.payload), out));
  return out;
}

size_t encoded_size(const InvokeServiceRequestFields& m) {
  return (m.id.empty() ? 0 : wire::len_field_size(1, m.id.size())) +
         wire::len_field_size(3, encoded_size(m.message));
}

uint8_t* encode(const InvokeServiceRequestFields& m, uint8_t* out) {
  if (!m.id.empty()) out = wire::write_bytes_field(1, m.id, out);
  return encode(m.message, wire::write_len_header(3, encoded_size(m.message), out));
}

PayloadMessageSplit split_payload_message(uint64_t seq, size_t data_size) {
  PayloadMessageSplit out;
  // encoded_size(StreamPayloadFields) for data of data_size bytes (data itself is not here).
  const size_t payload_size =
      (data_size == 0 ? 0 : wire::len_field_size(1, data_size)) + (seq == 0 ? 0 : wire::varint_field_size(2, seq));
  uint8_t* h = wire::write_len_header(2, payload_size, out.head);
  if (data_size > 0) h = wire::write_len_header(1, data_size, h);
  out.head_size = static_cast<uint8_t>(h - out.head);
  uint8_t* t = out.tail;
  if (seq != 0) t = wire::write_varint_field(2, seq, t);
  out.tail_size = static_cast<uint8_t>(t - out.tail);
  out.message_size = out.head_size + data_size + out.tail_size;
  return out;
}

}  // namespace ringside::codec
