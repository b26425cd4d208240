#include "tests/e2e/wide_window_reader.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "absl/strings/str_cat.h"

namespace ringside::e2e {
namespace {

constexpr int32_t kWideWindow = 0x7fffffff;  // the largest HTTP/2 window

// Everything the nghttp2 callbacks touch.
struct Call {
  int fd = -1;                  // the blocking socket
  int32_t stream_id = -1;       // our one stream
  std::string request;          // gRPC-framed request body still to send
  size_t request_sent = 0;      // how much of it nghttp2 took
  std::string body;             // response DATA bytes received so far
  std::string grpc_status;      // from the trailers
  bool closed = false;          // the stream ended (either way)
  bool send_failed = false;     // the socket refused our bytes
};

ssize_t Send(nghttp2_session*, const uint8_t* data, size_t length, int, void* user) {
  auto* call = static_cast<Call*>(user);
  size_t done = 0;
  while (done < length) {
    ssize_t n = ::send(call->fd, data + done, length - done, MSG_NOSIGNAL);
    if (n <= 0) {
      call->send_failed = true;
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    done += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(length);
}

int OnData(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data, size_t len, void* user) {
  auto* call = static_cast<Call*>(user);
  if (stream_id == call->stream_id) call->body.append(reinterpret_cast<const char*>(data), len);
  return 0;
}

int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
             const uint8_t* value, size_t valuelen, uint8_t, void* user) {
  auto* call = static_cast<Call*>(user);
  if (frame->hd.stream_id == call->stream_id &&
      std::string_view(reinterpret_cast<const char*>(name), namelen) == "grpc-status") {
    call->grpc_status.assign(reinterpret_cast<const char*>(value), valuelen);
  }
  return 0;
}

int OnClose(nghttp2_session*, int32_t stream_id, uint32_t, void* user) {
  auto* call = static_cast<Call*>(user);
  if (stream_id == call->stream_id) call->closed = true;
  return 0;
}

ssize_t ReadRequest(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                    nghttp2_data_source*, void* user) {
  auto* call = static_cast<Call*>(user);
  size_t n = std::min(length, call->request.size() - call->request_sent);
  std::copy_n(call->request.data() + call->request_sent, n, buf);
  call->request_sent += n;
  if (call->request_sent == call->request.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

// Whole gRPC messages in `body` (5-byte prefix each); a partial tail is left out.
std::vector<std::string> Messages(const std::string& body) {
  std::vector<std::string> out;
  size_t at = 0;
  while (body.size() - at >= 5) {
    uint32_t len = (uint32_t{static_cast<uint8_t>(body[at + 1])} << 24) |
                   (uint32_t{static_cast<uint8_t>(body[at + 2])} << 16) |
                   (uint32_t{static_cast<uint8_t>(body[at + 3])} << 8) | static_cast<uint8_t>(body[at + 4]);
    if (body.size() - at - 5 < len) break;
    out.emplace_back(body, at + 5, len);
    at += 5 + len;
  }
  return out;
}

// Sends what nghttp2 has, then reads for at most 50 ms. False when the connection failed.
bool Turn(nghttp2_session* session, Call* call) {
  if (nghttp2_session_send(session) != 0) return false;
  pollfd p{.fd = call->fd, .events = POLLIN, .revents = 0};
  if (::poll(&p, 1, 50) <= 0) return true;
  uint8_t buf[64 << 10];
  ssize_t n = ::recv(call->fd, buf, sizeof buf, 0);
  if (n <= 0) return false;
  return nghttp2_session_mem_recv(session, buf, static_cast<size_t>(n)) == n;
}

}  // namespace

absl::StatusOr<WideWindowResult> CallWithWideWindow(
    int port, std::string_view path, const std::vector<std::pair<std::string, std::string>>& metadata,
    std::string_view request, std::chrono::milliseconds stall, std::chrono::milliseconds deadline) {
  Call call;
  call.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (call.fd < 0 || ::connect(call.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (call.fd >= 0) ::close(call.fd);
    return absl::UnavailableError(absl::StrCat("cannot connect to 127.0.0.1:", port));
  }
  const uint32_t len = static_cast<uint32_t>(request.size());
  call.request = std::string{'\0', static_cast<char>(len >> 24), static_cast<char>(len >> 16),
                             static_cast<char>(len >> 8), static_cast<char>(len)};
  call.request.append(request);

  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_send_callback(cbs, Send);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, OnData);
  nghttp2_session_callbacks_set_on_header_callback(cbs, OnHeader);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, OnClose);
  nghttp2_session* session = nullptr;
  nghttp2_session_client_new(&session, cbs, &call);
  nghttp2_session_callbacks_del(cbs);

  nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kWideWindow}};
  nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, settings, 1);
  nghttp2_session_set_local_window_size(session, NGHTTP2_FLAG_NONE, 0, kWideWindow);
  const std::string authority = absl::StrCat("127.0.0.1:", port);
  std::vector<std::pair<std::string, std::string>> fields = {
      {":method", "POST"}, {":scheme", "http"}, {":path", std::string(path)}, {":authority", authority},
      {"content-type", "application/grpc"}, {"te", "trailers"}};
  fields.insert(fields.end(), metadata.begin(), metadata.end());
  std::vector<nghttp2_nv> nva;
  for (auto& [name, value] : fields) {
    nva.push_back({reinterpret_cast<uint8_t*>(name.data()), reinterpret_cast<uint8_t*>(value.data()),
                   name.size(), value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  nghttp2_data_provider provider{};
  provider.read_callback = ReadRequest;
  call.stream_id = nghttp2_submit_request(session, nullptr, nva.data(), nva.size(), &provider, nullptr);

  const auto end = std::chrono::steady_clock::now() + deadline;
  bool ok = call.stream_id > 0;
  // Until the first whole message: the server has started streaming into our wide window.
  while (ok && !call.closed && Messages(call.body).empty() && std::chrono::steady_clock::now() < end) {
    ok = Turn(session, &call);
  }
  if (ok && !call.closed) std::this_thread::sleep_for(stall);  // nobody reads
  while (ok && !call.closed && std::chrono::steady_clock::now() < end) ok = Turn(session, &call);
  nghttp2_session_del(session);
  ::close(call.fd);
  if (!call.closed) {
    return absl::DeadlineExceededError(absl::StrCat("the stream did not end (", call.body.size(),
                                                    " bytes received", ok ? "" : ", connection failed", ")"));
  }
  return WideWindowResult{Messages(call.body), call.grpc_status};
}

}  // namespace ringside::e2e
