// Differential tests: our zero-copy codec against libprotobuf on thousands of random messages
// (fixed seeds), in both directions.
#include <cstring>

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "tests/unit/codec/random_messages.h"
#include "tests/unit/codec/view_roundtrip.h"

namespace ringside::codec::testing {
namespace {

using google::protobuf::util::MessageDifferencer;

constexpr int kIterations = 3000;

// MessageDifferencer logs every Any whose type it cannot resolve; our type URLs are random.
const bool kQuietLibprotobuf = (google::protobuf::SetLogHandler(nullptr), true);

template <class Pb, class View, class DecodeFn>
void expect_decodes_like_libprotobuf(const std::string& bytes, DecodeFn decode) {
  Pb pb;
  ASSERT_TRUE(pb.ParseFromString(bytes));
  View view;
  ASSERT_TRUE(decode(bytes, &view));
  EXPECT_EQ(diff(pb, view), "") << pb.ShortDebugString().substr(0, 2000);
}

// ---- libprotobuf -> our decoder ------------------------------------------------------------

template <class Pb, class View, class DecodeFn>
void run_decode_differential(uint64_t seed, bool unknown_fields, DecodeFn decode) {
  RandomMessages rnd(seed);
  for (int i = 0; i < kIterations; ++i) {
    Pb pb;
    rnd.fill(&pb);
    if (unknown_fields) rnd.add_unknown_fields(&pb);
    expect_decodes_like_libprotobuf<Pb, View>(pb.SerializeAsString(), decode);
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(CodecDifferential, InternalInvokeRequestDecodesLikeLibprotobuf) {
  run_decode_differential<pbi::InternalInvokeRequest, InternalInvokeRequestView>(
      1, false, decode_internal_invoke_request);
}

TEST(CodecDifferential, InternalInvokeResponseDecodesLikeLibprotobuf) {
  run_decode_differential<pbi::InternalInvokeResponse, InternalInvokeResponseView>(
      2, false, decode_internal_invoke_response);
}

TEST(CodecDifferential, InvokeRequestDecodesLikeLibprotobuf) {
  run_decode_differential<pbc::InvokeRequest, InvokeRequestView>(3, false, decode_invoke_request);
}

TEST(CodecDifferential, InvokeResponseDecodesLikeLibprotobuf) {
  run_decode_differential<pbc::InvokeResponse, InvokeResponseView>(4, false, decode_invoke_response);
}

TEST(CodecDifferential, UnknownFieldsOfEveryWireTypeAreSkipped) {
  run_decode_differential<pbi::InternalInvokeRequest, InternalInvokeRequestView>(
      5, true, decode_internal_invoke_request);
  run_decode_differential<pbi::InternalInvokeResponse, InternalInvokeResponseView>(
      6, true, decode_internal_invoke_response);
  run_decode_differential<pbc::InvokeRequest, InvokeRequestView>(7, true, decode_invoke_request);
  run_decode_differential<pbc::InvokeResponse, InvokeResponseView>(8, true, decode_invoke_response);
}

// Two serialized messages back to back parse as their merge: last scalar wins, sub-messages
// merge, repeated fields and maps concatenate (map: last entry per key wins).
TEST(CodecDifferential, ConcatenatedMessagesMergeLikeLibprotobuf) {
  RandomMessages rnd(9);
  for (int i = 0; i < kIterations / 3; ++i) {
    pbi::InternalInvokeRequest a, b;
    rnd.fill(&a);
    rnd.fill(&b);
    expect_decodes_like_libprotobuf<pbi::InternalInvokeRequest, InternalInvokeRequestView>(
        a.SerializeAsString() + b.SerializeAsString(), decode_internal_invoke_request);
    pbi::InternalInvokeResponse c, d;
    rnd.fill(&c);
    rnd.fill(&d);
    // Same key in both maps: the second list replaces the first.
    if (rnd.chance(50)) (*c.mutable_headers())["dup"].add_values("first");
    if (rnd.chance(50)) (*d.mutable_headers())["dup"].add_values("second");
    expect_decodes_like_libprotobuf<pbi::InternalInvokeResponse, InternalInvokeResponseView>(
        c.SerializeAsString() + d.SerializeAsString(), decode_internal_invoke_response);
    if (HasFailure()) return;
  }
}

TEST(CodecDifferential, StreamMessagesDecodeLikeLibprotobuf) {
  RandomMessages rnd(10);
  for (int i = 0; i < kIterations; ++i) {
    pbi::InternalInvokeRequestStream rq;
    if (rnd.chance(50)) rnd.fill(rq.mutable_request());
    if (rnd.chance(80)) {
      rq.mutable_payload()->set_data(rnd.body());
      rq.mutable_payload()->set_seq(rnd.chance(50) ? rnd.below(100) : uint64_t(-1) - rnd.below(10));
    }
    if (rnd.chance(20)) rnd.add_unknown_fields(&rq);
    std::string bytes = rq.SerializeAsString();
    if (rnd.chance(10)) bytes += bytes;  // merged `request` occurrences
    expect_decodes_like_libprotobuf<pbi::InternalInvokeRequestStream, InternalInvokeRequestStreamView>(
        bytes, decode_internal_invoke_request_stream);

    pbi::InternalInvokeResponseStream rs;
    if (rnd.chance(50)) rnd.fill(rs.mutable_response());
    if (rnd.chance(80)) {
      rs.mutable_payload()->set_data(rnd.body());
      rs.mutable_payload()->set_seq(rnd.below(1000));
    }
    if (rnd.chance(20)) rnd.add_unknown_fields(&rs);
    bytes = rs.SerializeAsString();
    if (rnd.chance(10)) bytes += bytes;
    expect_decodes_like_libprotobuf<pbi::InternalInvokeResponseStream, InternalInvokeResponseStreamView>(
        bytes, decode_internal_invoke_response_stream);

    pbr::InvokeServiceRequest sr;
    sr.set_id(rnd.text());
    if (rnd.chance(90)) rnd.fill(sr.mutable_message());
    if (rnd.chance(20)) rnd.add_unknown_fields(&sr);
    expect_decodes_like_libprotobuf<pbr::InvokeServiceRequest, InvokeServiceRequestView>(
        sr.SerializeAsString(), decode_invoke_service_request);
    if (HasFailure()) return;
  }
}

// ---- our encoder -> libprotobuf -----------------------------------------------------------

// Our bytes must equal libprotobuf's deterministic serialization (same canonical form), parse
// back to the same message, and encoded_size() must equal ByteSizeLong().
template <class Pb, class Fields>
void expect_encodes_like_libprotobuf(const Pb& pb, const Fields& fields) {
  std::string ours = encode_to_string(fields);
  EXPECT_EQ(ours.size(), pb.ByteSizeLong());
  EXPECT_TRUE(ours == serialize_deterministic(pb)) << pb.ShortDebugString().substr(0, 2000);
  Pb parsed;
  ASSERT_TRUE(parsed.ParseFromString(ours));
  EXPECT_TRUE(MessageDifferencer::Equals(parsed, pb));
}

TEST(CodecDifferential, InternalInvokeRequestEncodesLikeLibprotobuf) {
  RandomMessages rnd(11);
  for (int i = 0; i < kIterations; ++i) {
    pbi::InternalInvokeRequest pb;
    rnd.fill(&pb, /*for_encoder=*/true);
    InternalRequestFieldsFrom f(pb);
    expect_encodes_like_libprotobuf(pb, f.fields);
    if (HasFailure()) return;
  }
}

TEST(CodecDifferential, InternalInvokeResponseEncodesLikeLibprotobuf) {
  RandomMessages rnd(12);
  for (int i = 0; i < kIterations; ++i) {
    pbi::InternalInvokeResponse pb;
    rnd.fill(&pb, /*for_encoder=*/true);
    InternalResponseFieldsFrom f(pb);
    expect_encodes_like_libprotobuf(pb, f.fields);
    if (HasFailure()) return;
  }
}

// Body-last encoding (what the senders use to send the body from where it is): the head our
// encoder writes followed by the body parses, with libprotobuf, to the very message, of the size
// libprotobuf computes, and the body is the message's last bytes.
template <class Pb, class Fields>
void expect_body_last_parses_like_libprotobuf(const Pb& pb, const Fields& fields) {
  const size_t body = body_bytes(fields);
  std::string bytes(encoded_size(fields), '\0');
  uint8_t* begin = reinterpret_cast<uint8_t*>(bytes.data());
  uint8_t* end = encode_all_but_body(fields, begin);
  ASSERT_EQ(static_cast<size_t>(end - begin), bytes.size() - body);
  std::string_view value = fields.message.data.value;
  if (body) std::memcpy(end, value.data(), body);
  EXPECT_EQ(bytes.size(), pb.ByteSizeLong());
  EXPECT_EQ(std::string_view(bytes).substr(bytes.size() - body), value.substr(0, body));
  Pb parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  EXPECT_TRUE(MessageDifferencer::Equals(parsed, pb)) << pb.ShortDebugString().substr(0, 2000);
}

TEST(CodecDifferential, BodyLastInternalInvokeMessagesParseLikeLibprotobuf) {
  RandomMessages rnd(16);
  for (int i = 0; i < kIterations; ++i) {
    pbi::InternalInvokeRequest rq;
    rnd.fill(&rq, /*for_encoder=*/true);
    InternalRequestFieldsFrom f(rq);
    expect_body_last_parses_like_libprotobuf(rq, f.fields);
    pbi::InternalInvokeResponse rs;
    rnd.fill(&rs, /*for_encoder=*/true);
    InternalResponseFieldsFrom g(rs);
    expect_body_last_parses_like_libprotobuf(rs, g.fields);
    if (HasFailure()) return;
  }
}

TEST(CodecDifferential, InvokeRequestAndResponseEncodeLikeLibprotobuf) {
  RandomMessages rnd(13);
  for (int i = 0; i < kIterations; ++i) {
    pbc::InvokeRequest rq;
    rnd.fill(&rq);
    expect_encodes_like_libprotobuf(rq, fields_from(rq));
    pbc::InvokeResponse rs;
    rnd.fill(&rs);
    expect_encodes_like_libprotobuf(rs, fields_from(rs));
    if (HasFailure()) return;
  }
}

TEST(CodecDifferential, StreamMessagesEncodeLikeLibprotobuf) {
  RandomMessages rnd(14);
  for (int i = 0; i < kIterations; ++i) {
    pbi::InternalInvokeRequestStream rq;
    bool with_request = rnd.chance(50);
    if (with_request) rnd.fill(rq.mutable_request(), true);
    InternalRequestFieldsFrom head(rq.request());
    InternalInvokeRequestStreamFields f;
    f.request = with_request ? &head.fields : nullptr;
    f.has_payload = rnd.chance(80);
    if (f.has_payload) {
      rq.mutable_payload()->set_data(rnd.body());
      rq.mutable_payload()->set_seq(rnd.chance(90) ? rnd.below(100) : uint64_t(-1));
      f.payload = {rq.payload().data(), rq.payload().seq()};
    }
    expect_encodes_like_libprotobuf(rq, f);

    pbi::InternalInvokeResponseStream rs;
    bool with_response = rnd.chance(50);
    if (with_response) rnd.fill(rs.mutable_response(), true);
    InternalResponseFieldsFrom rhead(rs.response());
    InternalInvokeResponseStreamFields g;
    g.response = with_response ? &rhead.fields : nullptr;
    g.has_payload = rnd.chance(80);
    if (g.has_payload) {
      rs.mutable_payload()->set_data(rnd.body());
      rs.mutable_payload()->set_seq(rnd.below(100));
      g.payload = {rs.payload().data(), rs.payload().seq()};
    }
    expect_encodes_like_libprotobuf(rs, g);

    pbr::InvokeServiceRequest sr;
    sr.set_id(rnd.text());
    rnd.fill(sr.mutable_message());
    expect_encodes_like_libprotobuf(sr, InvokeServiceRequestFields{sr.id(), fields_from(sr.message())});
    if (HasFailure()) return;
  }
}

// A payload message split around its data (the senders queue head, data, tail): the bytes
// libprotobuf writes for the same message, for both stream message kinds, with data sizes
// and seq values across varint length boundaries.
TEST(CodecDifferential, SplitPayloadMessagesAreTheBytesLibprotobufWrites) {
  RandomMessages rnd(15);
  const uint64_t seqs[] = {0, 1, 127, 128, 16383, 16384, uint64_t{1} << 35, uint64_t(-1)};
  const size_t sizes[] = {0, 1, 127, 128, 16383, 16384, 65536, 2097151, 2097152};
  for (uint64_t seq : seqs) {
    for (size_t size : sizes) {
      const std::string data = rnd.bytes(size);
      pbi::InternalInvokeRequestStream rq;
      rq.mutable_payload()->set_data(data);
      rq.mutable_payload()->set_seq(seq);
      pbi::InternalInvokeResponseStream rs;
      rs.mutable_payload()->set_data(data);
      rs.mutable_payload()->set_seq(seq);
      const PayloadMessageSplit split = split_payload_message(seq, size);
      const std::string joined = std::string(reinterpret_cast<const char*>(split.head), split.head_size) + data +
                                 std::string(reinterpret_cast<const char*>(split.tail), split.tail_size);
      EXPECT_EQ(joined, rq.SerializeAsString()) << "seq " << seq << ", " << size << " bytes";
      EXPECT_EQ(joined, rs.SerializeAsString()) << "seq " << seq << ", " << size << " bytes";
      EXPECT_EQ(split.message_size, joined.size());
      if (HasFailure()) return;
    }
  }
}

// ---- decode -> re-encode from the view -> decode ------------------------------------------

TEST(CodecDifferential, ViewsReEncodeToTheSameFields) {
  RandomMessages rnd(15);
  for (int i = 0; i < kIterations / 3; ++i) {
    pbi::InternalInvokeRequest rq;
    rnd.fill(&rq, true);
    rq.clear_actor();
    std::string bytes = rq.SerializeAsString();
    InternalInvokeRequestView v1, v2;
    ASSERT_TRUE(decode_internal_invoke_request(bytes, &v1));
    InternalRequestFieldsOf f1(v1);
    std::string again = encode_to_string(f1.fields);
    ASSERT_TRUE(decode_internal_invoke_request(again, &v2));
    EXPECT_TRUE(snapshot(v1) == snapshot(v2));
    EXPECT_EQ(again.size(), bytes.size());  // same canonical form, possibly other map order

    pbi::InternalInvokeResponse rs;
    rnd.fill(&rs, true);
    bytes = rs.SerializeAsString();
    InternalInvokeResponseView w1, w2;
    ASSERT_TRUE(decode_internal_invoke_response(bytes, &w1));
    InternalResponseFieldsOf g1(w1);
    again = encode_to_string(g1.fields);
    ASSERT_TRUE(decode_internal_invoke_response(again, &w2));
    EXPECT_TRUE(snapshot(w1) == snapshot(w2));
    EXPECT_EQ(again.size(), bytes.size());
    if (HasFailure()) return;
  }
}

}  // namespace
}  // namespace ringside::codec::testing
