#include "tests/e2e/raw_h2_client.h"

#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "tests/e2e/raw_socket.h"

namespace ringside::e2e {

// nghttp2's callbacks, with access to the client's streams.
struct RawH2ClientCallbacks {
  static RawH2Client* Self(void* user) { return static_cast<RawH2Client*>(user); }
  static RawH2Client::Stream* Find(void* user, int32_t id) {
    auto it = Self(user)->streams_.find(id);
    return it == Self(user)->streams_.end() ? nullptr : &it->second;
  }

  static ssize_t Send(nghttp2_session*, const uint8_t* data, size_t length, int, void* user) {
    size_t done = 0;
    while (done < length) {
      ssize_t n = ::send(Self(user)->fd_, data + done, length - done, MSG_NOSIGNAL);
      if (n <= 0) {
        Self(user)->alive_ = false;
        return NGHTTP2_ERR_CALLBACK_FAILURE;
      }
      done += static_cast<size_t>(n);
    }
    return static_cast<ssize_t>(length);
  }

  static int OnData(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t len, void* user) {
    if (auto* s = Find(user, id)) s->body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }

  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                      const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    auto* s = Find(user, frame->hd.stream_id);
    if (!s) return 0;
    const std::string_view n(reinterpret_cast<const char*>(name), namelen);
    const std::string v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":status") s->status = v;
    if (n == "grpc-status") s->grpc_status = v;
    if (n == "grpc-message") s->grpc_message = v;
    return 0;
  }

  static int OnClose(nghttp2_session*, int32_t id, uint32_t error_code, void* user) {
    if (auto* s = Find(user, id)) {
      s->closed = true;
      s->reset_code = error_code;
    }
    return 0;
  }

  static ssize_t ReadBody(nghttp2_session*, int32_t id, uint8_t* buf, size_t length, uint32_t* flags,
                          nghttp2_data_source*, void* user) {
    auto* s = Find(user, id);
    if (!s) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    const size_t n = std::min(length, s->request.size() - s->request_sent);
    if (n == 0 && !s->end_stream) return NGHTTP2_ERR_DEFERRED;  // the message stays unfinished
    std::copy_n(s->request.data() + s->request_sent, n, buf);
    s->request_sent += n;
    if (s->request_sent == s->request.size() && s->end_stream) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
};

RawH2Client::RawH2Client(int fd, uint16_t port) : fd_(fd), port_(port) {}

RawH2Client::~RawH2Client() {
  if (session_) nghttp2_session_del(session_);
  if (fd_ >= 0) ::close(fd_);
}

std::string RawH2Client::host() const { return absl::StrCat("127.0.0.1:", port_); }

absl::StatusOr<std::unique_ptr<RawH2Client>> RawH2Client::Connect(uint16_t port, int32_t window) {
  const int fd = ConnectRaw(port);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("cannot connect to 127.0.0.1:", port));
  std::unique_ptr<RawH2Client> c(new RawH2Client(fd, port));
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_send_callback(cbs, RawH2ClientCallbacks::Send);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, RawH2ClientCallbacks::OnData);
  nghttp2_session_callbacks_set_on_header_callback(cbs, RawH2ClientCallbacks::OnHeader);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, RawH2ClientCallbacks::OnClose);
  const int rv = nghttp2_session_client_new(&c->session_, cbs, c.get());
  nghttp2_session_callbacks_del(cbs);
  if (rv != 0) return absl::InternalError("nghttp2_session_client_new failed");
  nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(window)}};
  nghttp2_submit_settings(c->session_, NGHTTP2_FLAG_NONE, settings, 1);
  if (window > 65535) nghttp2_session_set_local_window_size(c->session_, NGHTTP2_FLAG_NONE, 0, window);
  if (!c->Flush()) return absl::UnavailableError("the server closed before our SETTINGS");
  return c;
}

int32_t RawH2Client::OpenGrpc(std::string_view path, const std::vector<std::pair<std::string, std::string>>& metadata,
                              std::string body, bool end_stream) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {":method", "POST"}, {":scheme", "http"}, {":path", std::string(path)}, {":authority", host()},
      {"content-type", "application/grpc"}, {"te", "trailers"}};
  fields.insert(fields.end(), metadata.begin(), metadata.end());
  std::vector<nghttp2_nv> nva;
  for (auto& [name, value] : fields) {
    nva.push_back({reinterpret_cast<uint8_t*>(name.data()), reinterpret_cast<uint8_t*>(value.data()),
                   name.size(), value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  nghttp2_data_provider provider{};
  provider.read_callback = RawH2ClientCallbacks::ReadBody;
  const int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(), &provider, nullptr);
  if (id < 0) return -1;
  Stream& s = streams_[id];
  s.request = std::move(body);
  s.end_stream = end_stream;
  return id;
}

bool RawH2Client::Flush() {
  if (alive_ && nghttp2_session_send(session_) != 0) alive_ = false;
  return alive_;
}

bool RawH2Client::Pump(std::chrono::milliseconds limit, const std::function<bool()>& done) {
  const auto end = std::chrono::steady_clock::now() + limit;
  uint8_t buf[64 << 10];
  while (!done() && alive_ && std::chrono::steady_clock::now() < end) {
    if (!Flush()) break;
    pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0 || nghttp2_session_mem_recv(session_, buf, static_cast<size_t>(n)) != n) {
      alive_ = false;
      break;
    }
    if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) alive_ = false;
  }
  return done();
}

std::string GrpcPrefix(uint32_t length) {
  return std::string{'\0', static_cast<char>(length >> 24), static_cast<char>(length >> 16),
                     static_cast<char>(length >> 8), static_cast<char>(length)};
}

std::string GrpcFrame(std::string_view message) {
  return GrpcPrefix(static_cast<uint32_t>(message.size())).append(message);
}

std::vector<std::string> GrpcMessages(const std::string& body) {
  std::vector<std::string> out;
  size_t at = 0;
  while (body.size() - at >= 5) {
    const auto u = [&](size_t i) { return uint32_t{static_cast<uint8_t>(body[at + i])}; };
    const uint32_t len = (u(1) << 24) | (u(2) << 16) | (u(3) << 8) | u(4);
    if (body.size() - at - 5 < len) break;
    out.emplace_back(body, at + 5, len);
    at += 5 + len;
  }
  return out;
}

}  // namespace ringside::e2e
