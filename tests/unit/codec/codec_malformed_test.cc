// Malformed input: truncation at every offset, random corruption, and hand-made bad encodings.
// Whatever libprotobuf accepts we accept with the same fields; what it rejects we reject
// (except invalid UTF-8 in strings, which we deliberately pass through).
#include <gtest/gtest.h>

#include "tests/unit/codec/lax_schemas.h"
#include "tests/unit/codec/random_messages.h"

namespace ringside::codec::testing {
namespace {

LaxSchemas& lax() {
  static LaxSchemas* schemas =
      new LaxSchemas({pbi::InternalInvokeRequest::descriptor(), pbr::InvokeServiceRequest::descriptor()});
  return *schemas;
}

// Checks one input against libprotobuf with one decoder: the same verdict as libprotobuf
// without UTF-8 checks, and the same fields whenever libprotobuf proper accepts.
template <class Pb, class View, class Decode>
void expect_agrees_with(std::string_view bytes, Decode decode) {
  Pb pb;
  View v;
  bool lib = pb.ParseFromString(std::string(bytes));
  bool lax_lib = lax().parses(Pb::descriptor()->full_name(), bytes);
  bool ours = decode(bytes, &v);
  EXPECT_EQ(ours, lax_lib) << Pb::descriptor()->full_name() << " "
                           << ::testing::PrintToString(std::string(bytes.substr(0, 200)));
  if (lib) {
    EXPECT_TRUE(ours) << "libprotobuf accepts, we reject";
    if (ours) {
      EXPECT_EQ(diff(pb, v), "");
    }
  }
}

// Same for every decoder.
void expect_agrees(std::string_view bytes) {
  expect_agrees_with<pbi::InternalInvokeRequest, InternalInvokeRequestView>(
      bytes, decode_internal_invoke_request);
  expect_agrees_with<pbi::InternalInvokeResponse, InternalInvokeResponseView>(
      bytes, decode_internal_invoke_response);
  expect_agrees_with<pbc::InvokeRequest, InvokeRequestView>(bytes, decode_invoke_request);
  expect_agrees_with<pbc::InvokeResponse, InvokeResponseView>(bytes, decode_invoke_response);
  expect_agrees_with<pbi::InternalInvokeRequestStream, InternalInvokeRequestStreamView>(
      bytes, decode_internal_invoke_request_stream);
  expect_agrees_with<pbi::InternalInvokeResponseStream, InternalInvokeResponseStreamView>(
      bytes, decode_internal_invoke_response_stream);
  expect_agrees_with<pbr::InvokeServiceRequest, InvokeServiceRequestView>(
      bytes, decode_invoke_service_request);
}

std::string sample_request(RandomMessages& rnd) {
  pbi::InternalInvokeRequest pb;
  rnd.fill(&pb);
  rnd.add_unknown_fields(&pb);
  return pb.SerializeAsString();
}

std::string sample_response(RandomMessages& rnd) {
  pbi::InternalInvokeResponse pb;
  rnd.fill(&pb);
  rnd.add_unknown_fields(&pb);
  return pb.SerializeAsString();
}

// libprotobuf logs every rejected string; the tests provoke thousands.
const bool kQuietLibprotobuf = (google::protobuf::SetLogHandler(nullptr), true);

TEST(CodecMalformed, TruncatedAtEveryOffsetAgreesWithLibprotobuf) {
  RandomMessages rnd(100);
  int checked = 0;
  while (checked < 40) {
    std::string full = checked % 2 ? sample_response(rnd) : sample_request(rnd);
    if (full.size() > 6000) continue;  // keep it quadratic-cheap
    for (size_t n = 0; n <= full.size(); ++n) {
      expect_agrees(std::string_view(full).substr(0, n));
      if (HasFailure()) {
        ADD_FAILURE() << "prefix length " << n << " of " << full.size();
        return;
      }
    }
    ++checked;
  }
}

TEST(CodecMalformed, RandomCorruptionAgreesWithLibprotobuf) {
  RandomMessages rnd(101);
  for (int i = 0; i < 8000; ++i) {
    std::string s = i % 2 ? sample_response(rnd) : sample_request(rnd);
    if (s.size() > 4000) s.resize(4000);
    int edits = 1 + static_cast<int>(rnd.below(4));
    for (int e = 0; e < edits && !s.empty(); ++e) {
      size_t at = rnd.below(s.size());
      switch (rnd.below(4)) {
        case 0: s[at] = static_cast<char>(rnd.below(256)); break;
        case 1: s[at] ^= static_cast<char>(1u << rnd.below(8)); break;
        case 2: s.erase(at, 1 + rnd.below(3)); break;
        default: s.insert(at, 1, static_cast<char>(rnd.below(256))); break;
      }
    }
    expect_agrees(s);
    if (HasFailure()) return;
  }
}

// Builds bytes from a list of (possibly nested) pieces.
std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(static_cast<char>(x));
  return s;
}

std::string len_field(int field, const std::string& payload) {
  std::string s = bytes({field << 3 | 2});
  uint8_t buf[10];
  uint8_t* e = wire::write_varint(payload.size(), buf);
  s.append(reinterpret_cast<char*>(buf), e - buf);
  return s + payload;
}

TEST(CodecMalformed, HandMadeBadEncodingsAreRejectedLikeLibprotobuf) {
  const std::string cases[] = {
      bytes({0x08}),                                          // varint value missing
      bytes({0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}),  // 11-byte varint
      bytes({0x1a, 0x05, 'a'}),                               // length past the end
      bytes({0x1a, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00}),      // 6-byte length
      bytes({0x1a, 0x80, 0x80, 0x80, 0x80, 0x08}),            // length >= 2 GiB
      bytes({0x00}),                                          // tag 0
      bytes({0x02, 0x00}),                                    // field 0, length-delimited
      bytes({0x0e}),                                          // wire type 6
      bytes({0x0f}),                                          // wire type 7
      bytes({0x0c}),                                          // end group without start
      bytes({0x0b, 0x08, 0x01}),                              // group never ended
      bytes({0x0b, 0x14}),                                    // group ended with another field
      bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x08}),            // 6-byte tag
      len_field(3, bytes({0x0a, 0x05, 'a'})),                 // nested: string past its message
      len_field(3, bytes({0x0a, 0x01})) + "a",                // nested: string ends outside
      len_field(2, len_field(2, bytes({0x0a, 0x03, 'a'}))),   // bad ListStringValue in a map
      len_field(3, len_field(2, bytes({0x0c}))),              // end group inside Any
      len_field(1, bytes({0x1a, 0x02, 0x0a})),                // bad Any in status details
      bytes({0x0a, 0x00, 0x0c}),                              // trailing end group
  };
  for (const std::string& c : cases) {
    SCOPED_TRACE(::testing::PrintToString(c));
    expect_agrees(c);
    InternalInvokeRequestView v;
    InternalInvokeResponseView w;
    // Every one of these is malformed for at least one of the two top-level decoders.
    EXPECT_FALSE(decode_internal_invoke_request(c, &v) && decode_internal_invoke_response(c, &w));
  }
}

TEST(CodecMalformed, OddButValidEncodingsAreAcceptedLikeLibprotobuf) {
  const std::string cases[] = {
      bytes({0x88, 0x00, 0x01}),                              // overlong tag for field 1
      bytes({0x08, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f}),  // 10-byte varint
      bytes({0x1a, 0x80, 0x00}),                              // overlong zero length
      bytes({0x0a, 0x00}),                                    // field 1 with the wrong wire type
      bytes({0x1d, 1, 2, 3, 4, 0x19, 1, 2, 3, 4, 5, 6, 7, 8}),  // known numbers, fixed types
      bytes({0xfb, 0xff, 0xff, 0xff, 0x0f, 0xfc, 0xff, 0xff, 0xff, 0x0f}),  // max field group
      bytes({0x0b, 0x13, 0x14, 0x0c}),                        // nested unknown groups
      len_field(3, len_field(1, "m1")) + len_field(3, len_field(3, "ct")),  // merged message
      len_field(2, len_field(2, len_field(1, "v1")) + len_field(1, "k") +
                       len_field(2, len_field(1, "v2"))),     // value, key, value in one entry
      len_field(2, len_field(2, len_field(1, "x"))),          // map entry without key
      len_field(2, len_field(1, "k")),                        // map entry without value
  };
  for (const std::string& c : cases) {
    SCOPED_TRACE(::testing::PrintToString(c));
    expect_agrees(c);
  }
  InternalInvokeRequestView v;
  ASSERT_TRUE(decode_internal_invoke_request(cases[7], &v));
  EXPECT_EQ(v.message.method, "m1");
  EXPECT_EQ(v.message.content_type, "ct");
  ASSERT_TRUE(decode_internal_invoke_request(cases[8], &v));
  std::vector<std::string> got;
  v.for_each_metadata([&](std::string_view k, std::string_view x) { got.push_back(std::string(k) + "=" + std::string(x)); });
  EXPECT_EQ(got, (std::vector<std::string>{"k=v1", "k=v2"}));
}

// libprotobuf stops at 100 levels of sub-messages plus groups; so do we.
TEST(CodecMalformed, NestingDepthLimitMatchesLibprotobuf) {
  for (int depth : {97, 98, 99, 100, 101, 102, 150}) {
    std::string groups;
    for (int i = 0; i < depth - 2; ++i) groups += bytes({0x7b});  // start group 15
    for (int i = 0; i < depth - 2; ++i) groups += bytes({0x7c});
    std::string s = len_field(3, len_field(2, groups));
    SCOPED_TRACE(depth);
    expect_agrees(s);
    InternalInvokeRequestView v;
    EXPECT_EQ(decode_internal_invoke_request(s, &v), depth <= 100);
  }
}

TEST(CodecMalformed, InvalidUtf8IsPassedThrough) {
  std::string s = len_field(3, len_field(1, "\xff\xfe"));
  pbi::InternalInvokeRequest pb;
  EXPECT_FALSE(pb.ParseFromString(s));  // libprotobuf (and Go) refuse it
  InternalInvokeRequestView v;
  ASSERT_TRUE(decode_internal_invoke_request(s, &v));
  EXPECT_EQ(v.message.method, "\xff\xfe");
}

}  // namespace
}  // namespace ringside::codec::testing
