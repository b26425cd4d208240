// libFuzzer target: arbitrary bytes from a client into GrpcServerConnection, the server side of
// every h2c connection ringside accepts (the internal port's CallLocal / CallLocalStream, the
// gRPC API port). nghttp2 parses the frames; what is ours is everything above it: header
// validation and budgets, unary reassembly, stream-mode forwarding with held windows, answers
// submitted from inside callbacks, cancellations, GOAWAY, and memory from the shard pool.
//
// Input layout: [behaviour][chunk size][bytes...]
//   behaviour bit 0: prepend the client connection preface (most inputs should get past it)
//             bits 1-2: handler: 0 answer unary calls at once, 1 answer them one chunk later,
//                       2 stream mode echoing data and answering at half-close,
//                       3 stream mode that cancels calls on their first data
//             bit 3: a 16-byte message limit instead of 1 MiB (RESOURCE_EXHAUSTED paths)
//             bit 4: flush output in 64-byte slices (nghttp2 keeps the rest queued)
//             bit 5: graceful shutdown() (GOAWAY) halfway through the input
// Checks, beyond ASan/UBSan: no event for a call after it was cancelled or answered, respond()
// to such calls fails, active_calls() is 0 once the transport closed, and every pool block the
// connection took is back in the pool when it is destroyed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <span>
#include <string_view>
#include <vector>

#include "dataplane/grpc/metadata.h"
#include "dataplane/grpc/server_connection.h"
#include "dataplane/mem/buffer.h"
#include "dataplane/mem/shard_pool.h"

namespace {

using ringside::grpc::CallId;
using ringside::grpc::CallMode;
using ringside::grpc::GrpcServerConnection;
using ringside::grpc::Metadata;

void check(bool ok) {
  if (!ok) std::abort();
}

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// A handler that behaves like one of ringside's (unary answers, streamed echoes) and checks
// that the connection never reports an event for a call it already ended.
class Handler final : public ringside::grpc::ServerHandler {
 public:
  Handler(int mode) : mode_(mode) {}
  GrpcServerConnection* conn = nullptr;  // set once the connection exists

  CallMode classify(std::string_view, std::span<const Metadata>) override {
    return mode_ >= 2 ? CallMode::kStream : CallMode::kUnary;
  }
  void on_stream_start(const ringside::grpc::StreamStart& s) override {
    check(live_.insert(s.id).second);
    Metadata h{"x-echo", "1"};
    conn->send_headers(s.id, std::span<const Metadata>(&h, 1));
  }
  void on_stream_data(CallId id, std::span<const uint8_t> bytes) override {
    check(live_.count(id) == 1);
    if (mode_ == 3) {
      conn->cancel(id);
      live_.erase(id);
      return;
    }
    // Echo what fits under the high watermark; the rest holds window (back-pressure).
    if (conn->queued_bytes(id) < ringside::grpc::kStreamHighWatermark &&
        conn->send_data(id, bytes)) {
      conn->consume(id, bytes.size());
    }
  }
  void on_stream_half_close(CallId id) override {
    check(live_.count(id) == 1);
    Metadata t{"x-trailer", "done"};
    check(conn->send_trailers(id, 0, "", std::span<const Metadata>(&t, 1)));
    live_.erase(id);
    check(!conn->send_trailers(id, 0, "", {}));  // a second end is refused
  }
  void on_unary_request(const ringside::grpc::UnaryRequest& req) override {
    check(live_.insert(req.id).second);
    if (mode_ == 1) {
      deferred_.push_back(req.id);
      return;
    }
    answer(req.id, req.message);
  }
  void on_call_cancelled(CallId id) override {
    check(live_.erase(id) == 1);
  }
  // Answers the calls held back since the last chunk (mode 1).
  void answer_deferred() {
    std::vector<CallId> ids;
    ids.swap(deferred_);
    for (CallId id : ids) {
      if (live_.count(id) == 0) {
        check(!conn->respond(id, {}, "late", 0, "", {}));  // cancelled meanwhile
        continue;
      }
      answer(id, "deferred answer");
    }
  }

 private:
  void answer(CallId id, std::string_view message) {
    Metadata h{"x-h", "v"};
    // Odd ids get an error status with a message that needs percent-encoding.
    const bool fail = (id & 1) != 0;
    check(conn->respond(id, std::span<const Metadata>(&h, 1), message, fail ? 13 : 0,
                        fail ? "bad \xff\n thing %" : "", {}));
    live_.erase(id);
    check(!conn->respond(id, {}, message, 0, "", {}));  // answered once only
  }

  int mode_;                     // see the input layout
  std::set<CallId> live_;        // calls handed to us and not ended
  std::vector<CallId> deferred_; // unary calls to answer after the next chunk (mode 1)
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t behaviour = data[0];
  const size_t chunk = data[1] == 0 ? 4096 : data[1];
  data += 2;
  size -= 2;
  const int mode = (behaviour >> 1) & 3;
  const uint32_t max_message = behaviour & 8 ? 16 : 1u << 20;
  const size_t flush_slice = behaviour & 16 ? 64 : SIZE_MAX;

  ringside::mem::ShardPool pool;
  {
    Handler handler(mode);
    ringside::mem::Buffer out(&pool);
    {
      GrpcServerConnection conn(&pool, &handler, max_message);
      handler.conn = &conn;
      check(conn.start());
      check(conn.flush_to(&out));
      check(out.size() >= 9 && out.data()[3] == 0x4);  // our SETTINGS come first
      out.clear();

      std::vector<uint8_t> input;
      if (behaviour & 1) input.assign(kPreface.begin(), kPreface.end());
      input.insert(input.end(), data, data + size);

      bool open = true;
      for (size_t off = 0; off < input.size() && open; off += chunk) {
        const size_t n = input.size() - off < chunk ? input.size() - off : chunk;
        open = conn.feed(input.data() + off, n);
        if ((behaviour & 32) && off <= input.size() / 2 && off + n > input.size() / 2) {
          conn.shutdown();
        }
        handler.answer_deferred();
        // Drain output like the shard does (bounded: nghttp2 may keep producing while the
        // peer's window allows; 64 rounds is plenty for any input of this size).
        for (int round = 0; round < 64; ++round) {
          const size_t before = out.size();
          if (!conn.flush_to(&out, flush_slice)) {
            open = false;
            break;
          }
          if (out.size() == before) break;
          out.clear();
        }
        out.clear();
        if (conn.wants_close()) open = false;
      }
      handler.answer_deferred();
      conn.on_transport_closed();
      check(conn.active_calls() == 0);
      conn.on_transport_closed();  // idempotent
    }
  }
  // Every block the connection and its buffers took went back to the pool.
  check(pool.stats().allocs == pool.stats().frees);
  return 0;
}
