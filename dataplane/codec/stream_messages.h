#pragma once
// Zero-copy codec for the CallLocalStream messages (spec §2.2, §2.3) and for
// dapr.proto.runtime.v1.InvokeServiceRequest (spec §4.2). Same rules as invoke_messages.h.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/codec/invoke_messages.h"

namespace ringside::codec {

// ---- decoded views ------------------------------------------------------------------------

// dapr.proto.common.v1.StreamPayload.
struct StreamPayloadView {
  bool present = false;   // the field was on the wire
  std::string_view data;  // chunk bytes (1)
  uint64_t seq = 0;       // 0-based chunk number (2)
};

// dapr.proto.internals.v1.InternalInvokeRequestStream.
struct InternalInvokeRequestStreamView {
  bool has_request = false;           // `request` (1) was on the wire: leading chunk only
  InternalInvokeRequestView request;  // the request head (1)
  StreamPayloadView payload;          // a body chunk (2)
};

// dapr.proto.internals.v1.InternalInvokeResponseStream.
struct InternalInvokeResponseStreamView {
  bool has_response = false;            // `response` (1) was on the wire: leading chunk only
  InternalInvokeResponseView response;  // the response head (1)
  StreamPayloadView payload;            // a body chunk (2)
};

// dapr.proto.runtime.v1.InvokeServiceRequest.
struct InvokeServiceRequestView {
  std::string_view id;        // target app id, "app" or "app.namespace" (1)
  bool has_message = false;   // `message` (3) was on the wire
  InvokeRequestView message;  // what to deliver (3)
};

bool decode_stream_payload(std::string_view in, StreamPayloadView* out);
bool decode_internal_invoke_request_stream(std::string_view in, InternalInvokeRequestStreamView* out);
bool decode_internal_invoke_response_stream(std::string_view in, InternalInvokeResponseStreamView* out);
bool decode_invoke_service_request(std::string_view in, InvokeServiceRequestView* out);

// ---- fields to encode ---------------------------------------------------------------------

// dapr.proto.common.v1.StreamPayload.
struct StreamPayloadFields {
  std::string_view data;  // chunk bytes
  uint64_t seq = 0;       // chunk number
};

// dapr.proto.internals.v1.InternalInvokeRequestStream.
struct InternalInvokeRequestStreamFields {
  const InternalInvokeRequestFields* request = nullptr;  // leading chunk only; null: omitted
  bool has_payload = false;                              // write `payload`
  StreamPayloadFields payload;                           // a body chunk
};

// dapr.proto.internals.v1.InternalInvokeResponseStream.
struct InternalInvokeResponseStreamFields {
  const InternalInvokeResponseFields* response = nullptr;  // leading chunk only; null: omitted
  bool has_payload = false;                                // write `payload`
  StreamPayloadFields payload;                             // a body chunk
};

// dapr.proto.runtime.v1.InvokeServiceRequest; `message` is always written.
struct InvokeServiceRequestFields {
  std::string_view id;          // target app id
  InvokeRequestFields message;  // what to deliver
};

size_t encoded_size(const StreamPayloadFields& m);
uint8_t* encode(const StreamPayloadFields& m, uint8_t* out);
size_t encoded_size(const InternalInvokeRequestStreamFields& m);
uint8_t* encode(const InternalInvokeRequestStreamFields& m, uint8_t* out);
size_t encoded_size(const InternalInvokeResponseStreamFields& m);
uint8_t* encode(const InternalInvokeResponseStreamFields& m, uint8_t* out);
size_t encoded_size(const InvokeServiceRequestFields& m);
uint8_t* encode(const InvokeServiceRequestFields& m, uint8_t* out);

// A stream message that carries only a payload (InternalInvokeRequestStream or
// InternalInvokeResponseStream: both hold it in field 2), split around its data bytes so a
// sender queues them from where they already are instead of encoding a copy first.
// head + data + tail are exactly the bytes encode() writes for the same fields.
struct PayloadMessageSplit {
  uint8_t head[24];           // payload's tag and length, then data's tag and length
  uint8_t head_size = 0;
  uint8_t tail[12];           // seq's field (empty when seq is 0)
  uint8_t tail_size = 0;
  size_t message_size = 0;    // head + data + tail: the gRPC message's length
};
PayloadMessageSplit split_payload_message(uint64_t seq, size_t data_size);

}  // namespace ringside::codec
