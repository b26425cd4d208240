// fuzz_codec: every decoder of dataplane/codec against libprotobuf on arbitrary bytes.
//  1. Our verdict equals libprotobuf's with UTF-8 checks off (we do not check UTF-8).
//  2. If libprotobuf proper parses the input, every field we decoded equals its fields.
//  3. If we parse it, re-encoding the view and decoding again gives the same fields.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tests/unit/codec/lax_schemas.h"
#include "tests/unit/codec/view_compare.h"
#include "tests/unit/codec/view_roundtrip.h"

namespace ringside::codec::testing {
namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_codec: %s: %s\n", what, detail.c_str());
  std::abort();
}

LaxSchemas& lax() {
  static LaxSchemas* schemas =
      new LaxSchemas({pbi::InternalInvokeRequest::descriptor(), pbr::InvokeServiceRequest::descriptor()});
  return *schemas;
}

template <class Pb, class View, class Decode, class RoundTrip>
void check(std::string_view in, Decode decode, RoundTrip round_trip) {
  const std::string& name = Pb::descriptor()->full_name();
  View v;
  bool ours = decode(in, &v);
  if (ours != lax().parses(name, in)) fail(ours ? "we accept, libprotobuf rejects" : "we reject, libprotobuf accepts", name);
  Pb pb;
  if (pb.ParseFromArray(in.data(), static_cast<int>(in.size()))) {
    if (!ours) fail("we reject a message libprotobuf parses", name);
    std::string d = diff(pb, v);
    if (!d.empty()) fail("fields differ from libprotobuf", name + ": " + d);
  }
  if (ours) round_trip(v);
}

template <class View, class Decode>
View decode_again(const std::string& bytes, Decode decode, const char* name) {
  if (bytes == "<size mismatch>") fail("encoded_size() disagrees with encode()", name);
  View v;
  if (!decode(bytes, &v)) fail("cannot decode our own encoding", name);
  return v;
}

void round_trip_request(const InternalInvokeRequestView& v) {
  InternalRequestFieldsOf f(v);
  const std::string bytes = encode_to_string(f.fields);  // `again` points into it
  auto again = decode_again<InternalInvokeRequestView>(bytes, decode_internal_invoke_request, "InternalInvokeRequest");
  auto want = snapshot(v);
  std::get<1>(want) = true;  // `message` is always written
  if (want != snapshot(again)) fail("re-encoded InternalInvokeRequest differs", "");
  // Body last (what the caller sends): the same message again.
  const std::string last = encode_body_last_to_string(f.fields);
  auto again_last = decode_again<InternalInvokeRequestView>(last, decode_internal_invoke_request, "InternalInvokeRequest body last");
  if (want != snapshot(again_last)) fail("body-last InternalInvokeRequest differs", "");
}

void round_trip_response(const InternalInvokeResponseView& v) {
  InternalResponseFieldsOf f(v);
  const std::string bytes = encode_to_string(f.fields);  // `again` points into it
  auto again = decode_again<InternalInvokeResponseView>(bytes, decode_internal_invoke_response, "InternalInvokeResponse");
  auto want = snapshot(v);
  std::get<0>(want) = true;  // `status` is always written
  if (want != snapshot(again)) fail("re-encoded InternalInvokeResponse differs", "");
  // Body last (what the callee sends): the same message again.
  const std::string last = encode_body_last_to_string(f.fields);
  auto again_last = decode_again<InternalInvokeResponseView>(last, decode_internal_invoke_response, "InternalInvokeResponse body last");
  if (want != snapshot(again_last)) fail("body-last InternalInvokeResponse differs", "");
}

void round_trip_invoke_request(const InvokeRequestView& v) {
  const std::string bytes = encode_to_string(fields_of(v));  // `again` points into it
  auto again = decode_again<InvokeRequestView>(bytes, decode_invoke_request, "InvokeRequest");
  if (snapshot(v) != snapshot(again)) fail("re-encoded InvokeRequest differs", "");
}

void round_trip_invoke_response(const InvokeResponseView& v) {
  const std::string bytes = encode_to_string(fields_of(v));  // `again` points into it
  auto again = decode_again<InvokeResponseView>(bytes, decode_invoke_response, "InvokeResponse");
  if (snapshot(v) != snapshot(again)) fail("re-encoded InvokeResponse differs", "");
}

auto payload_snapshot(const StreamPayloadView& p) { return std::make_tuple(p.present, std::string(p.data), p.seq); }

void round_trip_request_stream(const InternalInvokeRequestStreamView& v) {
  InternalRequestFieldsOf head(v.request);
  InternalInvokeRequestStreamFields f;
  f.request = v.has_request ? &head.fields : nullptr;
  f.has_payload = v.payload.present;
  f.payload = {v.payload.data, v.payload.seq};
  const std::string bytes = encode_to_string(f);  // `again` points into it
  auto again = decode_again<InternalInvokeRequestStreamView>(bytes, decode_internal_invoke_request_stream, "InternalInvokeRequestStream");
  auto want = snapshot(v.request);
  if (v.has_request) std::get<1>(want) = true;
  if (v.has_request != again.has_request || want != snapshot(again.request) ||
      payload_snapshot(v.payload) != payload_snapshot(again.payload))
    fail("re-encoded InternalInvokeRequestStream differs", "");
}

void round_trip_response_stream(const InternalInvokeResponseStreamView& v) {
  InternalResponseFieldsOf head(v.response);
  InternalInvokeResponseStreamFields f;
  f.response = v.has_response ? &head.fields : nullptr;
  f.has_payload = v.payload.present;
  f.payload = {v.payload.data, v.payload.seq};
  const std::string bytes = encode_to_string(f);  // `again` points into it
  auto again = decode_again<InternalInvokeResponseStreamView>(bytes, decode_internal_invoke_response_stream, "InternalInvokeResponseStream");
  auto want = snapshot(v.response);
  if (v.has_response) std::get<0>(want) = true;
  if (v.has_response != again.has_response || want != snapshot(again.response) ||
      payload_snapshot(v.payload) != payload_snapshot(again.payload))
    fail("re-encoded InternalInvokeResponseStream differs", "");
}

void round_trip_service_request(const InvokeServiceRequestView& v) {
  InvokeServiceRequestFields f{v.id, fields_of(v.message)};
  const std::string bytes = encode_to_string(f);  // `again` points into it
  auto again = decode_again<InvokeServiceRequestView>(bytes, decode_invoke_service_request, "InvokeServiceRequest");
  if (v.id != again.id || !again.has_message || snapshot(v.message) != snapshot(again.message))
    fail("re-encoded InvokeServiceRequest differs", "");
}

}  // namespace
}  // namespace ringside::codec::testing

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ringside::codec;
  using namespace ringside::codec::testing;
  static const bool quiet = (google::protobuf::SetLogHandler(nullptr), true);
  (void)quiet;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  check<pbi::InternalInvokeRequest, InternalInvokeRequestView>(in, decode_internal_invoke_request, round_trip_request);
  check<pbi::InternalInvokeResponse, InternalInvokeResponseView>(in, decode_internal_invoke_response, round_trip_response);
  check<pbc::InvokeRequest, InvokeRequestView>(in, decode_invoke_request, round_trip_invoke_request);
  check<pbc::InvokeResponse, InvokeResponseView>(in, decode_invoke_response, round_trip_invoke_response);
  check<pbi::InternalInvokeRequestStream, InternalInvokeRequestStreamView>(in, decode_internal_invoke_request_stream, round_trip_request_stream);
  check<pbi::InternalInvokeResponseStream, InternalInvokeResponseStreamView>(in, decode_internal_invoke_response_stream, round_trip_response_stream);
  check<pbr::InvokeServiceRequest, InvokeServiceRequestView>(in, decode_invoke_service_request, round_trip_service_request);
  return 0;
}
