#pragma once
// Protobuf wire-format primitives: a bounds-checked reader over a view and raw writers.
//
// The reader accepts exactly what libprotobuf 3.21's parser accepts at this level, so the
// hand-written decoders agree with it byte for byte (tests/unit/codec, tests/fuzz/codec):
//   tag      varint of at most 5 bytes, taken modulo 2^32; field number 0 is an error
//   varint   at most 10 bytes, taken modulo 2^64
//   length   varint of at most 5 bytes, < 2^31 - 16, and the bytes must lie inside the view
//   groups   (wire types 3/4) only as unknown fields, nested at most kMaxDepth deep
//   wire types 6 and 7 are errors
// Writers assume the caller reserved encoded_size() bytes; they never check bounds.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace ringside::codec::wire {

enum class WireType : uint8_t {
  kVarint = 0,
  kFixed64 = 1,
  kLen = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

// libprotobuf's default recursion limit: sub-messages plus groups nested below the top level.
inline constexpr int kMaxDepth = 100;

// Largest length prefix libprotobuf accepts (INT_MAX minus its 16 slop bytes).
inline constexpr uint32_t kMaxLength = 0x7fffffffu - 16;

constexpr uint32_t make_tag(uint32_t field, WireType wt) {
  return (field << 3) | static_cast<uint32_t>(wt);
}

class Reader {
 public:
  explicit Reader(std::string_view in)
      : p_(reinterpret_cast<const uint8_t*>(in.data())), end_(p_ + in.size()) {}

  bool at_end() const { return p_ == end_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

  // Reads a field key. Fails on a truncated/overlong key, field number 0 and wire types 6/7.
  bool read_tag(uint32_t* field, WireType* wt) {
    uint32_t tag = 0;
    for (int i = 0;; ++i) {
      if (i == 5 || p_ == end_) return false;
      uint32_t b = *p_++;
      tag |= (b & 0x7f) << (7 * i);  // bits past 32 fall off, as in libprotobuf
      if (b < 0x80) break;
    }
    *field = tag >> 3;
    uint32_t t = tag & 7;
    if (*field == 0 || t > 5) return false;
    *wt = static_cast<WireType>(t);
    return true;
  }

  bool read_varint(uint64_t* v) {
    uint64_t r = 0;
    for (int i = 0;; ++i) {
      if (i == 10 || p_ == end_) return false;
      uint64_t b = *p_++;
      r |= (b & 0x7f) << (7 * i);
      if (b < 0x80) break;
    }
    *v = r;
    return true;
  }

  // Reads a length prefix and returns the bytes it covers.
  bool read_len(std::string_view* out) {
    uint32_t n = 0;
    for (int i = 0;; ++i) {
      if (i == 5 || p_ == end_) return false;
      uint32_t b = *p_++;
      if (i == 4 && b >= 8) return false;  // >= 2 GiB
      n |= (b & 0x7f) << (7 * i);
      if (b < 0x80) break;
    }
    if (n > kMaxLength || n > remaining()) return false;
    *out = std::string_view(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return true;
  }

  bool skip_bytes(size_t n) {
    if (n > remaining()) return false;
    p_ += n;
    return true;
  }

  // Skips the value of an unknown field whose key was just read. `depth` is the nesting
  // level of the message being read (0 = top level); a group adds one level.
  bool skip(uint32_t field, WireType wt, int depth) {
    switch (wt) {
      case WireType::kVarint: { uint64_t v; return read_varint(&v); }
      case WireType::kFixed64: return skip_bytes(8);
      case WireType::kFixed32: return skip_bytes(4);
      case WireType::kLen: { std::string_view s; return read_len(&s); }
      case WireType::kStartGroup: return skip_group(field, depth + 1);
      case WireType::kEndGroup: return false;  // an end without a start
    }
    return false;
  }

 private:
  bool skip_group(uint32_t field, int depth) {
    if (depth > kMaxDepth) return false;
    for (;;) {
      uint32_t f;
      WireType wt;
      if (!read_tag(&f, &wt)) return false;
      if (wt == WireType::kEndGroup) return f == field;
      if (!skip(f, wt, depth)) return false;
    }
  }

  const uint8_t* p_;    // next unread byte
  const uint8_t* end_;  // one past the last byte of the view
};

// ---- sizes --------------------------------------------------------------------------------

constexpr size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) { v >>= 7; ++n; }
  return n;
}

// int32 values are sign-extended to 64 bits on the wire (negative values take 10 bytes).
constexpr uint64_t int32_wire(int32_t v) { return static_cast<uint64_t>(static_cast<int64_t>(v)); }

constexpr size_t tag_size(uint32_t field) { return varint_size(make_tag(field, WireType::kVarint)); }

// Key + length prefix + payload of a length-delimited field.
constexpr size_t len_field_size(uint32_t field, size_t len) {
  return tag_size(field) + varint_size(len) + len;
}

constexpr size_t varint_field_size(uint32_t field, uint64_t v) { return tag_size(field) + varint_size(v); }

// ---- writers ------------------------------------------------------------------------------

inline uint8_t* write_varint(uint64_t v, uint8_t* out) {
  while (v >= 0x80) {
    *out++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *out++ = static_cast<uint8_t>(v);
  return out;
}

inline uint8_t* write_tag(uint32_t field, WireType wt, uint8_t* out) {
  return write_varint(make_tag(field, wt), out);
}

inline uint8_t* write_varint_field(uint32_t field, uint64_t v, uint8_t* out) {
  return write_varint(v, write_tag(field, WireType::kVarint, out));
}

// Key and length prefix of a length-delimited field whose payload the caller writes next.
inline uint8_t* write_len_header(uint32_t field, size_t len, uint8_t* out) {
  return write_varint(len, write_tag(field, WireType::kLen, out));
}

inline uint8_t* write_bytes_field(uint32_t field, std::string_view bytes, uint8_t* out) {
  out = write_len_header(field, bytes.size(), out);
  if (!bytes.empty()) std::memcpy(out, bytes.data(), bytes.size());
  return out + bytes.size();
}

}  // namespace ringside::codec::wire
