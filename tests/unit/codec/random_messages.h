#pragma once
// Random Dapr invocation messages built with libprotobuf (fixed seeds), and *Fields views of
// them for our encoders. Strings mix empty, ASCII and multi-byte UTF-8; bodies are binary and
// occasionally 1 MiB.
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/unknown_field_set.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "tests/unit/codec/view_compare.h"

namespace ringside::codec::testing {

class RandomMessages {
 public:
  explicit RandomMessages(uint64_t seed) : rng_(seed) {}

  bool chance(int percent) { return int(rng_() % 100) < percent; }
  size_t below(size_t n) { return n == 0 ? 0 : rng_() % n; }

  // Valid UTF-8 (proto3 `string` fields must be).
  std::string text() {
    static const char* const kPieces[] = {"a", "Z", "0", "-", "/", " ", "ü", "é", "日本", "🚀", "\t", "x-dapr"};
    if (chance(20)) return "";
    std::string s;
    size_t n = 1 + below(chance(10) ? 300 : 12);
    for (size_t i = 0; i < n; ++i) s += kPieces[below(std::size(kPieces))];
    return s;
  }

  std::string body() {
    if (chance(15)) return "";
    size_t n = chance(1) ? (1u << 20) : below(chance(10) ? 5000 : 64);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng_());
    return s;
  }

  // Exactly n random bytes.
  std::string bytes(size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng_());
    return s;
  }

  int32_t int32() {
    switch (below(4)) {
      case 0: return 0;
      case 1: return static_cast<int32_t>(below(20));
      case 2: return -static_cast<int32_t>(below(1000)) - 1;  // 10-byte varints
      default: return static_cast<int32_t>(rng_());
    }
  }

  void fill(pbi::ListStringValue* l) {
    size_t n = below(4);
    for (size_t i = 0; i < n; ++i) l->add_values(text());
  }

  void fill_map(google::protobuf::Map<std::string, pbi::ListStringValue>* m) {
    size_t n = chance(20) ? 0 : below(12);
    for (size_t i = 0; i < n; ++i) fill(&(*m)[text()]);
  }

  void fill(google::protobuf::Any* a) {
    if (chance(30)) a->set_type_url("type.googleapis.com/" + text());
    a->set_value(body());
  }

  void fill(pbc::InvokeRequest* m) {
    m->set_method(text());
    if (chance(80)) fill(m->mutable_data());
    m->set_content_type(text());
    if (chance(70)) {
      m->mutable_http_extension()->set_verb(static_cast<pbc::HTTPExtension::Verb>(chance(90) ? below(10) : int32()));
      m->mutable_http_extension()->set_querystring(text());
    }
  }

  void fill(pbc::InvokeResponse* m) {
    if (chance(80)) fill(m->mutable_data());
    m->set_content_type(text());
  }

  void fill(pbi::InternalInvokeRequest* m, bool for_encoder = false) {
    m->set_ver(static_cast<pbi::APIVersion>(chance(80) ? 1 : int32()));
    fill_map(m->mutable_metadata());
    if (for_encoder || chance(90)) fill(m->mutable_message());
    if (!for_encoder && chance(20)) {
      m->mutable_actor()->set_actor_type(text());
      m->mutable_actor()->set_actor_id(text());
    }
  }

  void fill(pbi::InternalInvokeResponse* m, bool for_encoder = false) {
    if (for_encoder || chance(90)) {
      m->mutable_status()->set_code(int32());
      m->mutable_status()->set_message(text());
      size_t n = chance(70) ? 0 : below(3);
      for (size_t i = 0; i < n; ++i) fill(m->mutable_status()->add_details());
    }
    fill_map(m->mutable_headers());
    fill_map(m->mutable_trailers());
    if (chance(85)) fill(m->mutable_message());
  }

  // Adds unknown fields of every wire type (groups included) to m and, recursively, to the
  // sub-messages it holds.
  void add_unknown_fields(google::protobuf::Message* m) {
    const auto* refl = m->GetReflection();
    auto* u = refl->MutableUnknownFields(m);
    int base = 1000 + static_cast<int>(below(100000));
    if (chance(50)) u->AddVarint(base, rng_());
    if (chance(30)) u->AddFixed32(base + 1, static_cast<uint32_t>(rng_()));
    if (chance(30)) u->AddFixed64(base + 2, rng_());
    if (chance(50)) u->AddLengthDelimited(base + 3, body());
    if (chance(20)) {
      auto* g = u->AddGroup(base + 4);
      g->AddVarint(1, 7);
      g->AddGroup(2)->AddLengthDelimited(3, "nested");
    }
    std::vector<const google::protobuf::FieldDescriptor*> fields;
    refl->ListFields(*m, &fields);
    for (const auto* f : fields) {
      if (f->type() != google::protobuf::FieldDescriptor::TYPE_MESSAGE || f->is_map()) continue;
      if (f->is_repeated()) {
        for (int i = 0; i < refl->FieldSize(*m, f); ++i)
          add_unknown_fields(refl->MutableRepeatedMessage(m, f, i));
      } else {
        add_unknown_fields(refl->MutableMessage(m, f));
      }
    }
  }

 private:
  std::mt19937_64 rng_;
};

inline std::string serialize_deterministic(const google::protobuf::Message& m) {
  std::string s;
  {
    google::protobuf::io::StringOutputStream sos(&s);
    google::protobuf::io::CodedOutputStream cos(&sos);
    cos.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&cos);
  }
  return s;
}

// *Fields pointing into a libprotobuf message; map entries sorted by key, as deterministic
// serialization writes them, so our bytes can be compared with libprotobuf's.
struct SortedEntries {
  std::vector<std::vector<std::string_view>> lists;
  std::vector<MetadataEntry> entries;
  std::span<const MetadataEntry> of(const google::protobuf::Map<std::string, pbi::ListStringValue>& m) {
    std::map<std::string_view, const pbi::ListStringValue*> sorted;
    for (const auto& [k, v] : m) sorted[k] = &v;
    for (const auto& [k, v] : sorted) lists.emplace_back(v->values().begin(), v->values().end());
    size_t i = 0;
    for (const auto& [k, v] : sorted) entries.push_back({k, lists[i++]});
    return entries;
  }
};

inline AnyFields fields_from(const google::protobuf::Any& a, bool present) {
  return {a.type_url(), a.value(), present};
}

inline InvokeRequestFields fields_from(const pbc::InvokeRequest& m) {
  InvokeRequestFields f;
  f.method = m.method();
  f.data = fields_from(m.data(), m.has_data());
  f.content_type = m.content_type();
  f.has_http_extension = m.has_http_extension();
  f.verb = m.http_extension().verb();
  f.querystring = m.http_extension().querystring();
  return f;
}

inline InvokeResponseFields fields_from(const pbc::InvokeResponse& m) {
  return {fields_from(m.data(), m.has_data()), m.content_type()};
}

struct InternalRequestFieldsFrom {
  SortedEntries metadata;
  InternalInvokeRequestFields fields;
  explicit InternalRequestFieldsFrom(const pbi::InternalInvokeRequest& m) {
    fields.ver = m.ver();
    fields.metadata = metadata.of(m.metadata());
    fields.message = fields_from(m.message());
  }
};

struct InternalResponseFieldsFrom {
  SortedEntries headers, trailers;
  std::vector<AnyFields> details;
  InternalInvokeResponseFields fields;
  explicit InternalResponseFieldsFrom(const pbi::InternalInvokeResponse& m) {
    fields.status.code = m.status().code();
    fields.status.message = m.status().message();
    for (const auto& d : m.status().details()) details.push_back(fields_from(d, true));
    fields.status.details = details;
    fields.headers = headers.of(m.headers());
    fields.trailers = trailers.of(m.trailers());
    fields.has_message = m.has_message();
    fields.message = fields_from(m.message());
  }
};

}  // namespace ringside::codec::testing
