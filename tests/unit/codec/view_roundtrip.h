#pragma once
// Re-encoding decoded views (view -> *Fields -> encode -> decode) for the round-trip checks of
// the unit tests and the fuzzer, plus a plain-value snapshot of a view to compare two views.
#include <cstring>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "dataplane/codec/invoke_messages.h"
#include "dataplane/codec/stream_messages.h"

namespace ringside::codec::testing {

// Owns the arrays a MetadataEntry span points at.
struct EntryStorage {
  std::vector<std::string_view> keys;
  std::vector<std::vector<std::string_view>> lists;
  std::vector<MetadataEntry> entries;

  template <class ForEachEntry>
  std::span<const MetadataEntry> fill(ForEachEntry&& for_each_entry) {
    for_each_entry([&](std::string_view key, StringListView values) {
      keys.push_back(key);
      lists.emplace_back();
      values.for_each([&](std::string_view v) { lists.back().push_back(v); });
    });
    for (size_t i = 0; i < keys.size(); ++i) entries.push_back({keys[i], lists[i]});
    return entries;
  }
};

inline AnyFields fields_of(const AnyView& a) { return {a.type_url, a.value, a.present}; }

inline InvokeRequestFields fields_of(const InvokeRequestView& v) {
  InvokeRequestFields f;
  f.method = v.method;
  f.data = fields_of(v.data);
  f.content_type = v.content_type;
  f.has_http_extension = v.http_extension.present;
  f.verb = v.http_extension.verb;
  f.querystring = v.http_extension.querystring;
  return f;
}

inline InvokeResponseFields fields_of(const InvokeResponseView& v) {
  return {fields_of(v.data), v.content_type};
}

struct InternalRequestFieldsOf {
  EntryStorage metadata;
  InternalInvokeRequestFields fields;
  explicit InternalRequestFieldsOf(const InternalInvokeRequestView& v) {
    fields.ver = v.ver;
    fields.metadata = metadata.fill([&](auto f) { v.for_each_metadata_entry(f); });
    fields.message = fields_of(v.message);
  }
};

struct InternalResponseFieldsOf {
  EntryStorage headers, trailers;
  std::vector<AnyFields> details;
  InternalInvokeResponseFields fields;
  explicit InternalResponseFieldsOf(const InternalInvokeResponseView& v) {
    fields.status.code = v.status.code;
    fields.status.message = v.status.message;
    v.status.for_each_detail([&](const AnyView& a) { details.push_back(fields_of(a)); });
    fields.status.details = details;
    fields.headers = headers.fill([&](auto f) { v.for_each_header_entry(f); });
    fields.trailers = trailers.fill([&](auto f) { v.for_each_trailer_entry(f); });
    fields.has_message = v.has_message;
    fields.message = fields_of(v.message);
  }
};

template <class Fields>
std::string encode_to_string(const Fields& f) {
  std::string out(encoded_size(f), '\0');
  uint8_t* begin = reinterpret_cast<uint8_t*>(out.data());
  uint8_t* end = encode(f, begin);
  if (static_cast<size_t>(end - begin) != out.size()) out = "<size mismatch>";
  return out;
}

// The body-last encoding (encode_all_but_body, then the body's bytes), as the senders put it
// on the wire; "<size mismatch>" when the parts do not add up to encoded_size().
template <class Fields>
std::string encode_body_last_to_string(const Fields& f) {
  std::string out(encoded_size(f), '\0');
  const size_t body = body_bytes(f);
  uint8_t* begin = reinterpret_cast<uint8_t*>(out.data());
  uint8_t* end = encode_all_but_body(f, begin);
  if (static_cast<size_t>(end - begin) + body != out.size()) return "<size mismatch>";
  if (body) std::memcpy(end, f.message.data.value.data(), body);
  return out;
}

// ---- plain-value snapshots (what a view says, independent of where its bytes live) --------

using Entries = std::vector<std::pair<std::string, std::vector<std::string>>>;

template <class ForEachEntry>
Entries snapshot_entries(ForEachEntry&& for_each_entry) {
  Entries out;
  for_each_entry([&](std::string_view key, StringListView values) {
    std::vector<std::string> vs;
    values.for_each([&](std::string_view v) { vs.emplace_back(v); });
    out.emplace_back(std::string(key), std::move(vs));
  });
  return out;
}

inline auto snapshot(const AnyView& a) {
  return std::make_tuple(a.present, std::string(a.type_url), std::string(a.value));
}

inline auto snapshot(const InvokeRequestView& v) {
  return std::make_tuple(std::string(v.method), snapshot(v.data), std::string(v.content_type),
                         v.http_extension.present, v.http_extension.verb,
                         std::string(v.http_extension.querystring));
}

inline auto snapshot(const InvokeResponseView& v) {
  return std::make_tuple(snapshot(v.data), std::string(v.content_type));
}

// Actor fields are left out: InternalInvokeRequestFields cannot encode them (not needed for
// service invocation).
inline auto snapshot(const InternalInvokeRequestView& v) {
  return std::make_tuple(v.ver, v.has_message, snapshot(v.message),
                         snapshot_entries([&](auto f) { v.for_each_metadata_entry(f); }));
}

inline auto snapshot(const InternalInvokeResponseView& v) {
  std::vector<decltype(snapshot(AnyView{}))> details;
  v.status.for_each_detail([&](const AnyView& a) { details.push_back(snapshot(a)); });
  return std::make_tuple(v.status.present, v.status.code, std::string(v.status.message), details,
                         snapshot_entries([&](auto f) { v.for_each_header_entry(f); }),
                         snapshot_entries([&](auto f) { v.for_each_trailer_entry(f); }),
                         v.has_message, snapshot(v.message));
}

}  // namespace ringside::codec::testing
