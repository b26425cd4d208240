#include "tools/blocking_http/http_connection.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tools/blocking_http/http_head.h"

namespace ringside::blocking_http {
namespace {

constexpr size_t kMaxHeaders = 256;

// Milliseconds for poll(): -1 for no deadline, 0 once it has passed.
int PollTimeout(Clock::time_point deadline) {
  if (deadline == kNoDeadline) return -1;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::clamp<int64_t>(left.count(), 0, 1 << 30));
}

absl::Status WaitFor(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int n = ::poll(&p, 1, PollTimeout(deadline));
    if (n > 0) return absl::OkStatus();
    if (n == 0) return absl::DeadlineExceededError("timed out waiting for the socket");
    if (errno != EINTR) return absl::InternalError(absl::StrCat("poll: ", std::strerror(errno)));
  }
}

bool IsBodyless(int status) { return (status >= 100 && status < 200) || status == 204 || status == 304; }

}  // namespace

int HttpMessage::status() const {
  int code = -1;
  return absl::SimpleAtoi(token2, &code) ? code : -1;
}

std::string_view HttpMessage::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return {};
}

size_t HttpMessage::header_count(std::string_view name) const {
  return static_cast<size_t>(std::count_if(headers.begin(), headers.end(), [&](const auto& h) {
    return EqualsIgnoreCase(h.first, name);
  }));
}

std::string BuildRequest(const RequestSpec& spec) {
  std::string out = absl::StrCat(spec.method, " ", spec.target, " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  for (const auto& [name, value] : spec.headers) absl::StrAppend(&out, name, ": ", value, "\r\n");
  if (spec.content_length) absl::StrAppend(&out, "Content-Length: ", spec.body.size(), "\r\n");
  absl::StrAppend(&out, "\r\n", spec.body);
  return out;
}

BlockingHttpConnection::~BlockingHttpConnection() { Close(); }

BlockingHttpConnection::BlockingHttpConnection(BlockingHttpConnection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)) {}

BlockingHttpConnection& BlockingHttpConnection::operator=(BlockingHttpConnection&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
    buffer_ = std::move(other.buffer_);
  }
  return *this;
}

void BlockingHttpConnection::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
}

absl::Status BlockingHttpConnection::Connect(uint16_t port, Clock::time_point deadline) {
  Close();
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) {
      const int err = errno;
      Close();
      return absl::UnavailableError(absl::StrCat("connect to port ", port, ": ", std::strerror(err)));
    }
    if (absl::Status s = WaitFor(fd_, POLLOUT, deadline); !s.ok()) {
      Close();
      return s;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      Close();
      return absl::UnavailableError(absl::StrCat("connect to port ", port, ": ", std::strerror(err)));
    }
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return absl::OkStatus();
}

absl::Status BlockingHttpConnection::SendAll(std::string_view bytes, Clock::time_point deadline) {
  while (!bytes.empty()) {
    if (deadline != kNoDeadline && Clock::now() >= deadline) {
      return absl::DeadlineExceededError("deadline passed while sending");
    }
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (absl::Status s = WaitFor(fd_, POLLOUT, deadline); !s.ok()) return s;
      continue;
    }
    return absl::AbortedError(absl::StrCat("send: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status BlockingHttpConnection::Fill(Clock::time_point deadline) {
  std::array<char, 64 * 1024> chunk;
  // Checked even when data keeps arriving, so an endless stream cannot outlive the deadline.
  if (deadline != kNoDeadline && Clock::now() >= deadline) {
    return absl::DeadlineExceededError("deadline passed while reading");
  }
  for (;;) {
    const ssize_t n = ::recv(fd_, chunk.data(), chunk.size(), MSG_DONTWAIT);
    if (n > 0) {
      buffer_.append(chunk.data(), static_cast<size_t>(n));
      return absl::OkStatus();
    }
    if (n == 0) return absl::OutOfRangeError("connection closed by peer");
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return absl::AbortedError(absl::StrCat("recv: ", std::strerror(errno)));
    }
    if (absl::Status s = WaitFor(fd_, POLLIN, deadline); !s.ok()) return s;
  }
}

absl::Status BlockingHttpConnection::StreamBody(uint64_t length, Clock::time_point deadline,
                                                absl::FunctionRef<absl::Status(std::string_view)> sink) {
  const size_t first = static_cast<size_t>(std::min<uint64_t>(length, buffer_.size()));
  if (first > 0) {
    if (absl::Status s = sink(std::string_view(buffer_).substr(0, first)); !s.ok()) return s;
    buffer_.erase(0, first);
    length -= first;
  }
  // One piece buffer per call, reused: the body is never held whole.
  std::string piece(std::min<uint64_t>(length, 256 * 1024), '\0');
  while (length > 0) {
    if (deadline != kNoDeadline && Clock::now() >= deadline) {
      return absl::DeadlineExceededError("deadline passed while reading the body");
    }
    const ssize_t n = ::recv(fd_, piece.data(), std::min<uint64_t>(length, piece.size()), MSG_DONTWAIT);
    if (n > 0) {
      length -= static_cast<uint64_t>(n);
      if (absl::Status s = sink(std::string_view(piece.data(), static_cast<size_t>(n))); !s.ok()) return s;
      continue;
    }
    if (n == 0) return absl::OutOfRangeError("connection closed by peer inside the body");
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return absl::AbortedError(absl::StrCat("recv: ", std::strerror(errno)));
    }
    if (absl::Status s = WaitFor(fd_, POLLIN, deadline); !s.ok()) return s;
  }
  return absl::OkStatus();
}

bool BlockingHttpConnection::WaitForPeerClose(Clock::time_point deadline) {
  if (!buffer_.empty()) return false;
  const absl::Status s = Fill(deadline);
  return absl::IsOutOfRange(s) || absl::IsAborted(s);
}

absl::StatusOr<HttpMessage> BlockingHttpConnection::ReadHead(Clock::time_point deadline) {
  if (fd_ < 0) return absl::FailedPreconditionError("not connected");
  std::array<HeaderField, kMaxHeaders> fields;
  ParsedHead head;
  for (;;) {
    const ParseResult r = ParseHead(buffer_, fields, &head);
    if (r == ParseResult::kComplete) break;
    if (r != ParseResult::kIncomplete) {
      return absl::DataLossError(absl::StrCat("malformed HTTP head: ", buffer_.substr(0, 200)));
    }
    if (absl::Status s = Fill(deadline); !s.ok()) return s;
  }
  HttpMessage m;
  m.token1 = head.token1;
  m.token2 = head.token2;
  m.token3 = head.token3;
  for (size_t i = 0; i < head.header_count; ++i) {
    m.headers.emplace_back(std::string(fields[i].name), std::string(fields[i].value));
  }
  buffer_.erase(0, head.length);
  return m;
}

absl::Status BlockingHttpConnection::ReadBody(HttpMessage* m, bool chunked, uint64_t length,
                                              bool until_close, Clock::time_point deadline) {
  if (chunked) {
    m->chunked = true;
    return ReadChunkedBody(m, deadline);
  }
  if (until_close) {
    for (;;) {
      const absl::Status s = Fill(deadline);
      if (absl::IsOutOfRange(s)) break;
      if (!s.ok()) return s;
    }
    m->body = std::move(buffer_);
    buffer_.clear();
    return absl::OkStatus();
  }
  while (buffer_.size() < length) {
    if (absl::Status s = Fill(deadline); !s.ok()) return s;
  }
  m->body = buffer_.substr(0, length);
  buffer_.erase(0, length);
  return absl::OkStatus();
}

absl::Status BlockingHttpConnection::ReadChunkedBody(HttpMessage* m, Clock::time_point deadline) {
  for (;;) {
    uint64_t size = 0;
    size_t line = 0;
    for (;;) {
      const ParseResult r = ParseChunkSizeLine(buffer_, &size, &line);
      if (r == ParseResult::kComplete) break;
      if (r != ParseResult::kIncomplete) return absl::DataLossError("malformed chunk size line");
      if (absl::Status s = Fill(deadline); !s.ok()) return s;
    }
    if (size == 0) {
      // Trailer section: header lines up to an empty line.
      buffer_.erase(0, line);
      for (;;) {
        const size_t eol = buffer_.find("\r\n");
        if (eol == 0) {
          buffer_.erase(0, 2);
          return absl::OkStatus();
        }
        if (eol != std::string::npos) {
          buffer_.erase(0, eol + 2);
          continue;
        }
        if (absl::Status s = Fill(deadline); !s.ok()) return s;
      }
    }
    while (buffer_.size() < line + size + 2) {
      if (absl::Status s = Fill(deadline); !s.ok()) return s;
    }
    if (buffer_.compare(line + size, 2, "\r\n") != 0) return absl::DataLossError("chunk without CRLF");
    m->body.append(buffer_, line, size);
    buffer_.erase(0, line + size + 2);
  }
}

absl::StatusOr<HttpMessage> BlockingHttpConnection::ReadResponse(Clock::time_point deadline,
                                                                 ResponseTo to, bool skip_interim) {
  for (;;) {
    absl::StatusOr<HttpMessage> m = ReadHead(deadline);
    if (!m.ok()) return m.status();
    const int status = m->status();
    if (status < 100 || status > 999) return absl::DataLossError("bad status code");
    if (status < 200 && skip_interim) continue;
    if (IsBodyless(status) || to == ResponseTo::kHead) return m;
    const bool chunked = HasToken(m->header("Transfer-Encoding"), "chunked");
    uint64_t length = 0;
    const std::string_view cl = m->header("Content-Length");
    const bool has_length = !cl.empty();
    if (has_length && !ParseContentLength(cl, &length)) return absl::DataLossError("bad Content-Length");
    if (absl::Status s = ReadBody(&*m, chunked, length, !chunked && !has_length, deadline); !s.ok()) {
      return s;
    }
    return m;
  }
}

absl::StatusOr<HttpMessage> BlockingHttpConnection::ReadRequestHead(Clock::time_point deadline) {
  return ReadHead(deadline);
}

absl::Status BlockingHttpConnection::ReadRequestBody(HttpMessage* request, Clock::time_point deadline) {
  const bool chunked = HasToken(request->header("Transfer-Encoding"), "chunked");
  uint64_t length = 0;
  const std::string_view cl = request->header("Content-Length");
  if (!cl.empty() && !ParseContentLength(cl, &length)) return absl::DataLossError("bad Content-Length");
  return ReadBody(request, chunked, length, /*until_close=*/false, deadline);
}

absl::StatusOr<HttpMessage> RoundTrip(uint16_t port, const RequestSpec& spec,
                                      std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  BlockingHttpConnection c;
  if (absl::Status s = c.Connect(port, deadline); !s.ok()) return s;
  // A server may answer (e.g. 413) and close before it has read the whole body; the answer
  // still counts, so a failed send is only reported if no response can be read either.
  const absl::Status sent = c.SendAll(BuildRequest(spec), deadline);
  absl::StatusOr<HttpMessage> r =
      c.ReadResponse(deadline, spec.method == "HEAD" ? ResponseTo::kHead : ResponseTo::kOther);
  if (!r.ok() && !sent.ok()) return sent;
  return r;
}

}  // namespace ringside::blocking_http
