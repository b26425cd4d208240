#pragma once
// MessageScope: where the bytes of a (possibly nested) message live, for lazy iteration of its
// repeated and map fields straight from the wire, without copying or allocating.
//
// Why a path and not one string_view: protobuf merges repeated occurrences of a singular
// sub-message field (`status` twice means one Status whose `details` are the concatenation),
// so the repeated fields of a nested message are spread over every occurrence of it:
//
//   root = [ 1:{status: 3:{any} 3:{any}} 2:{hdr} 1:{status: 3:{any}} ]
//   scope of the status = {root, path = [1]}  ->  details are the three Anys, in wire order.
//
// Iteration assumes the root was validated by a decoder (so it never fails half way for a
// validated message); on malformed bytes it just stops early, never reads out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/codec/wire.h"

namespace ringside::codec {

struct MessageScope {
  static constexpr int kMaxPath = 3;
  std::string_view root;          // outermost message handed to the decoder
  uint8_t depth = 0;              // number of valid entries in path
  uint32_t path[kMaxPath] = {};   // field numbers leading from root down to this message

  MessageScope child(uint32_t field) const {
    MessageScope s = *this;
    if (s.depth < kMaxPath) s.path[s.depth++] = field;
    return s;
  }
};

namespace detail {

// Calls f(payload) for every length-delimited occurrence of `field` in msg.
template <class F>
void for_each_len_field(std::string_view msg, uint32_t field, F& f) {
  wire::Reader r(msg);
  while (!r.at_end()) {
    uint32_t fn;
    wire::WireType wt;
    if (!r.read_tag(&fn, &wt)) return;
    if (wt == wire::WireType::kLen) {
      std::string_view payload;
      if (!r.read_len(&payload)) return;
      if (fn == field) f(payload);
    } else if (!r.skip(fn, wt, 0)) {
      return;
    }
  }
}

template <class F>
void for_each_at_path(std::string_view msg, const uint32_t* path, int n, uint32_t field, F& f) {
  if (n == 0) {
    for_each_len_field(msg, field, f);
    return;
  }
  auto descend = [&](std::string_view inner) { for_each_at_path(inner, path + 1, n - 1, field, f); };
  for_each_len_field(msg, path[0], descend);
}

}  // namespace detail

// Calls f(std::string_view payload) for every occurrence of length-delimited `field` of the
// message at `scope`, across all occurrences of that message, in wire order.
template <class F>
void for_each_field_payload(const MessageScope& scope, uint32_t field, F&& f) {
  detail::for_each_at_path(scope.root, scope.path, scope.depth, field, f);
}

// View of a ListStringValue that may be spread over several occurrences (see above): the
// payload of one map entry; the strings are every `values` (1) of every `value` (2) in it.
class StringListView {
 public:
  StringListView() = default;
  explicit StringListView(std::string_view map_entry) : entry_(map_entry) {}

  // Calls f(std::string_view value) for each value in order.
  template <class F>
  void for_each(F&& f) const {
    auto on_list = [&](std::string_view list) { detail::for_each_len_field(list, 1, f); };
    detail::for_each_len_field(entry_, 2, on_list);
  }

  size_t size() const {
    size_t n = 0;
    for_each([&](std::string_view) { ++n; });
    return n;
  }

 private:
  std::string_view entry_;  // payload of the map entry (key = 1, value = 2)
};

// Key of a map<string, ...> entry: the last `key` (1) occurrence wins, "" when absent.
inline std::string_view map_entry_key(std::string_view entry) {
  std::string_view key;
  auto on_key = [&](std::string_view k) { key = k; };
  detail::for_each_len_field(entry, 1, on_key);
  return key;
}

// Calls f(std::string_view key, StringListView values) for every entry of a
// map<string, ListStringValue> field, in wire order. A key repeated on the wire is reported
// every time (libprotobuf and Go keep only the last; no stock encoder repeats a key).
template <class F>
void for_each_string_list_entry(const MessageScope& scope, uint32_t field, F&& f) {
  for_each_field_payload(scope, field, [&](std::string_view entry) {
    f(map_entry_key(entry), StringListView(entry));
  });
}

// Calls f(key, value) for every value of every entry, in wire order.
template <class F>
void for_each_string_list_value(const MessageScope& scope, uint32_t field, F&& f) {
  for_each_string_list_entry(scope, field, [&](std::string_view key, StringListView values) {
    values.for_each([&](std::string_view v) { f(key, v); });
  });
}

}  // namespace ringside::codec
