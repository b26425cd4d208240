#pragma once
// Field-by-field comparison of our zero-copy views with libprotobuf messages (and with each
// other), shared by the unit tests and the fuzzer. Each diff() returns "" when equal, else a
// description of the first difference.
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dapr/proto/common/v1/common.pb.h"
#include "dapr/proto/internals/v1/service_invocation.pb.h"
#include "dapr/proto/runtime/v1/dapr.pb.h"
#include "dataplane/codec/invoke_messages.h"
#include "dataplane/codec/stream_messages.h"
#include "dataplane/codec/utf8.h"

namespace ringside::codec::testing {

namespace pbc = dapr::proto::common::v1;
namespace pbi = dapr::proto::internals::v1;
namespace pbr = dapr::proto::runtime::v1;

// key -> values, as a protobuf map holds it (a key repeated on the wire: last entry wins).
using StringLists = std::map<std::string, std::vector<std::string>>;
// Entries in wire order, duplicates kept.
using EntryList = std::vector<std::pair<std::string, std::vector<std::string>>>;

inline StringLists lists_of(const google::protobuf::Map<std::string, pbi::ListStringValue>& m) {
  StringLists out;
  for (const auto& [k, v] : m) out[k] = std::vector<std::string>(v.values().begin(), v.values().end());
  return out;
}

template <class ForEachEntry>
EntryList entries_of(ForEachEntry&& for_each_entry) {
  EntryList out;
  for_each_entry([&](std::string_view key, StringListView values) {
    std::vector<std::string> vs;
    values.for_each([&](std::string_view v) { vs.emplace_back(v); });
    out.emplace_back(std::string(key), std::move(vs));
  });
  return out;
}

inline StringLists lists_of(const EntryList& entries) {
  StringLists out;
  for (const auto& [k, v] : entries) out[k] = v;  // last wins, like a protobuf map
  return out;
}

#define RS_DIFF(cond, what)               \
  do {                                    \
    if (!(cond)) return std::string(what); \
  } while (0)
#define RS_SUB(expr, prefix)                     \
  do {                                           \
    std::string d_ = (expr);                     \
    if (!d_.empty()) return (prefix) + d_;       \
  } while (0)

inline std::string diff(const pbc::InvokeRequest& pb, const InvokeRequestView& v) {
  RS_DIFF(pb.method() == v.method, "method");
  RS_DIFF(pb.has_data() == v.data.present, "data presence");
  RS_DIFF(pb.data().type_url() == v.data.type_url, "data.type_url");
  RS_DIFF(pb.data().value() == v.data.value, "data.value");
  RS_DIFF(pb.content_type() == v.content_type, "content_type");
  RS_DIFF(pb.has_http_extension() == v.http_extension.present, "http_extension presence");
  RS_DIFF(static_cast<int32_t>(pb.http_extension().verb()) == v.http_extension.verb, "verb");
  RS_DIFF(pb.http_extension().querystring() == v.http_extension.querystring, "querystring");
  return "";
}

inline std::string diff(const pbc::InvokeResponse& pb, const InvokeResponseView& v) {
  RS_DIFF(pb.has_data() == v.data.present, "data presence");
  RS_DIFF(pb.data().type_url() == v.data.type_url, "data.type_url");
  RS_DIFF(pb.data().value() == v.data.value, "data.value");
  RS_DIFF(pb.content_type() == v.content_type, "content_type");
  return "";
}

inline std::string diff(const pbi::InternalInvokeRequest& pb, const InternalInvokeRequestView& v) {
  RS_DIFF(static_cast<int32_t>(pb.ver()) == v.ver, "ver");
  RS_DIFF(pb.has_message() == v.has_message, "message presence");
  RS_SUB(diff(pb.message(), v.message), "message.");
  RS_DIFF(pb.has_actor() == v.has_actor, "actor presence");
  RS_DIFF(pb.actor().actor_type() == v.actor_type, "actor_type");
  RS_DIFF(pb.actor().actor_id() == v.actor_id, "actor_id");
  EntryList entries = entries_of([&](auto f) { v.for_each_metadata_entry(f); });
  RS_DIFF(lists_of(pb.metadata()) == lists_of(entries), "metadata");
  RS_DIFF(entries.size() >= static_cast<size_t>(pb.metadata_size()), "metadata count");
  RS_DIFF(entries.size() == v.metadata_entries, "metadata_entries");
  // The per-value iterator must flatten the per-entry one.
  std::vector<std::pair<std::string, std::string>> flat, flat2;
  v.for_each_metadata([&](std::string_view k, std::string_view x) { flat.emplace_back(k, x); });
  for (const auto& [k, vs] : entries)
    for (const auto& x : vs) flat2.emplace_back(k, x);
  RS_DIFF(flat == flat2, "for_each_metadata");
  return "";
}

inline std::vector<std::pair<std::string, std::string>> details_of(const StatusView& s) {
  std::vector<std::pair<std::string, std::string>> out;
  s.for_each_detail([&](const AnyView& a) { out.emplace_back(a.type_url, a.value); });
  return out;
}

inline std::string diff(const pbi::InternalInvokeResponse& pb, const InternalInvokeResponseView& v) {
  RS_DIFF(pb.has_status() == v.status.present, "status presence");
  RS_DIFF(pb.status().code() == v.status.code, "status.code");
  RS_DIFF(pb.status().message() == v.status.message, "status.message");
  std::vector<std::pair<std::string, std::string>> details;
  for (const auto& d : pb.status().details()) details.emplace_back(d.type_url(), d.value());
  RS_DIFF(details == details_of(v.status), "status.details");
  RS_DIFF(pb.has_message() == v.has_message, "message presence");
  RS_SUB(diff(pb.message(), v.message), "message.");
  EntryList headers = entries_of([&](auto f) { v.for_each_header_entry(f); });
  EntryList trailers = entries_of([&](auto f) { v.for_each_trailer_entry(f); });
  RS_DIFF(lists_of(pb.headers()) == lists_of(headers), "headers");
  RS_DIFF(lists_of(pb.trailers()) == lists_of(trailers), "trailers");
  RS_DIFF(headers.size() == v.header_entries, "header_entries");
  RS_DIFF(trailers.size() == v.trailer_entries, "trailer_entries");
  std::vector<std::pair<std::string, std::string>> flat, flat2;
  v.for_each_header([&](std::string_view k, std::string_view x) { flat.emplace_back(k, x); });
  v.for_each_trailer([&](std::string_view k, std::string_view x) { flat.emplace_back(k, x); });
  for (const auto* list : {&headers, &trailers})
    for (const auto& [k, vs] : *list)
      for (const auto& x : vs) flat2.emplace_back(k, x);
  RS_DIFF(flat == flat2, "for_each_header/trailer");
  return "";
}

inline std::string diff(const pbc::StreamPayload& pb, bool present, const StreamPayloadView& v) {
  RS_DIFF(present == v.present, "payload presence");
  RS_DIFF(pb.data() == v.data, "payload.data");
  RS_DIFF(pb.seq() == v.seq, "payload.seq");
  return "";
}

inline std::string diff(const pbi::InternalInvokeRequestStream& pb, const InternalInvokeRequestStreamView& v) {
  RS_DIFF(pb.has_request() == v.has_request, "request presence");
  RS_SUB(diff(pb.request(), v.request), "request.");
  RS_SUB(diff(pb.payload(), pb.has_payload(), v.payload), "");
  return "";
}

inline std::string diff(const pbi::InternalInvokeResponseStream& pb, const InternalInvokeResponseStreamView& v) {
  RS_DIFF(pb.has_response() == v.has_response, "response presence");
  RS_SUB(diff(pb.response(), v.response), "response.");
  RS_SUB(diff(pb.payload(), pb.has_payload(), v.payload), "");
  return "";
}

inline std::string diff(const pbr::InvokeServiceRequest& pb, const InvokeServiceRequestView& v) {
  RS_DIFF(pb.id() == v.id, "id");
  RS_DIFF(pb.has_message() == v.has_message, "message presence");
  RS_SUB(diff(pb.message(), v.message), "message.");
  return "";
}

// ---- UTF-8 of every string field ---------------------------------------------------------
// libprotobuf rejects a message whose string fields are not valid UTF-8; we do not. These tell
// whether such a string is the reason the two disagree.

template <class ForEachEntry>
bool entries_valid_utf8(ForEachEntry&& for_each_entry) {
  bool ok = true;
  for_each_entry([&](std::string_view key, StringListView values) {
    ok = ok && is_valid_utf8(key);
    values.for_each([&](std::string_view v) { ok = ok && is_valid_utf8(v); });
  });
  return ok;
}

inline bool strings_valid_utf8(const InvokeRequestView& v) {
  return is_valid_utf8(v.method) && is_valid_utf8(v.data.type_url) && is_valid_utf8(v.content_type) &&
         is_valid_utf8(v.http_extension.querystring);
}

inline bool strings_valid_utf8(const InvokeResponseView& v) {
  return is_valid_utf8(v.data.type_url) && is_valid_utf8(v.content_type);
}

inline bool strings_valid_utf8(const InternalInvokeRequestView& v) {
  return strings_valid_utf8(v.message) && is_valid_utf8(v.actor_type) && is_valid_utf8(v.actor_id) &&
         entries_valid_utf8([&](auto f) { v.for_each_metadata_entry(f); });
}

inline bool strings_valid_utf8(const InternalInvokeResponseView& v) {
  bool ok = strings_valid_utf8(v.message) && is_valid_utf8(v.status.message) &&
            entries_valid_utf8([&](auto f) { v.for_each_header_entry(f); }) &&
            entries_valid_utf8([&](auto f) { v.for_each_trailer_entry(f); });
  v.status.for_each_detail([&](const AnyView& a) { ok = ok && is_valid_utf8(a.type_url); });
  return ok;
}

inline bool strings_valid_utf8(const InternalInvokeRequestStreamView& v) { return strings_valid_utf8(v.request); }
inline bool strings_valid_utf8(const InternalInvokeResponseStreamView& v) { return strings_valid_utf8(v.response); }
inline bool strings_valid_utf8(const InvokeServiceRequestView& v) {
  return is_valid_utf8(v.id) && strings_valid_utf8(v.message);
}

#undef RS_DIFF
#undef RS_SUB

}  // namespace ringside::codec::testing
