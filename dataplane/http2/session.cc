#include "dataplane/http2/session.h"

#include "dataplane/http2/pool_mem.h"

namespace ringside::http2 {
namespace {

// Options are immutable after creation and nghttp2 copies them into each session, so one
// process-wide instance (created on first use, outside the request path) serves all shards.
const nghttp2_option* session_options() {
  static nghttp2_option* opt = [] {
    nghttp2_option* o = nullptr;
    nghttp2_option_new(&o);
    // Windows reopen only through consume_stream()/consume_connection().
    nghttp2_option_set_no_auto_window_update(o, 1);
    // Closed streams are not kept around for priority purposes.
    nghttp2_option_set_no_closed_streams(o, 1);
    // Until the peer's SETTINGS arrive, one stream at a time: calls submitted meanwhile wait
    // in nghttp2's queue for one round trip instead of being refused (REFUSED_STREAM) by a
    // peer that allows fewer than nghttp2's default assumption of 100. Server sessions never
    // open streams, so this only shapes clients.
    nghttp2_option_set_peer_max_concurrent_streams(o, 1);
    return o;
  }();
  return opt;
}

}  // namespace

bool Session::start(Role role, const nghttp2_session_callbacks* callbacks, void* user,
                    const SessionSettings& settings) {
  if (session_) return false;
  settings_ = settings;
  nghttp2_mem mem = pool_mem(pool_);
  int rv = role == Role::kClient
               ? nghttp2_session_client_new3(&session_, callbacks, user, session_options(), &mem)
               : nghttp2_session_server_new3(&session_, callbacks, user, session_options(), &mem);
  if (rv != 0) {
    session_ = nullptr;
    return false;
  }
  nghttp2_settings_entry iv[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, settings.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, settings.initial_stream_window},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, settings.max_header_list_bytes},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
  };
  // ENABLE_PUSH is a client-only setting; the shard count only a server's.
  size_t n = 3;
  if (role == Role::kClient) {
    n = 4;
  } else if (settings.advertised_shards != 0) {
    iv[3] = {kRingsideShardsSetting, settings.advertised_shards};
    n = 4;
  }
  if (nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv, n) != 0) return false;
  if (nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                            static_cast<int32_t>(settings.connection_window)) != 0) {
    return false;
  }
  return true;
}

bool Session::feed(const uint8_t* data, size_t len) {
  if (!alive()) return false;
  ssize_t rv = nghttp2_session_mem_recv(session_, data, len);
  if (rv < 0) {
    fatal_ = true;
    // Best effort: tell the peer why (e.g. a bad client preface); may fail if nghttp2 is
    // already terminating, which is fine.
    nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
    return false;
  }
  return nghttp2_session_want_read(session_) != 0;
}

bool Session::flush_to(mem::Buffer* out, size_t max_bytes) {
  if (!session_) return false;
  while (out->size() < max_bytes) {
    const uint8_t* p = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &p);
    if (n < 0) {
      fatal_ = true;
      return false;
    }
    if (n == 0) return true;
    if (!out->append(p, static_cast<size_t>(n))) {
      fatal_ = true;
      return false;
    }
  }
  return true;
}

bool Session::wants_close() const {
  if (!session_ || fatal_) return true;
  return nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0;
}

void Session::shutdown() {
  if (!alive()) return;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
}

void Session::shutdown_notice() {
  if (!alive()) return;
  nghttp2_submit_shutdown_notice(session_);
  nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, kDrainPing);
}

void Session::terminate(uint32_t error_code) {
  if (!session_) return;
  nghttp2_session_terminate_session(session_, error_code);
}

void Session::destroy() {
  if (session_) nghttp2_session_del(session_);
  session_ = nullptr;
}

void Session::consume_stream(int32_t stream_id, size_t n) {
  // Errors mean "stream already closed" (nothing to reopen) or no memory for the
  // WINDOW_UPDATE item (the next consume retries): neither is worth failing the session.
  if (alive() && n > 0) nghttp2_session_consume_stream(session_, stream_id, n);
}

void Session::consume_connection(size_t n) {
  if (alive() && n > 0) nghttp2_session_consume_connection(session_, n);
}

}  // namespace ringside::http2
