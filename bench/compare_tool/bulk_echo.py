"""The large-body echo client of bench/compare: one POST of a large body per connection, sent from
a thread while the answer is read (an echo answers as it reads; a client that read only after
sending would stall every chain on full socket buffers), the answer checked byte for byte.

Why not http.client: its chunked decoding (a readline and a copy per chunk) and its reads cost
the client more than a whole sidecar chain spends, so a chunked answer (what daprd and ringside
send, spec §5.5) measured slower than a Content-Length one for the client's sake alone (0.27 s
against 0.08 s for 64 MiB direct on the reference VM). Here the answer lands with recv_into in
one preallocated buffer and the framing is walked once, so the client costs about the same
whatever the framing and the chain is what is measured."""

import socket
import threading
import time


class EchoError(RuntimeError):
    pass


class ResponseParser:
    """Incremental HTTP/1.1 response framing over a growing buffer: feed(n) after n more bytes
    arrived; done() once the answer is complete (Content-Length, chunked, or until close via
    closed()). body_slices() are (start, end) offsets of the body's bytes in the buffer."""

    def __init__(self):
        self.status = None
        self.head_end = None      # offset after the blank line
        self.length = None        # Content-Length, or None
        self.chunked = False
        self.until_close = False
        self.slices = []
        self._at = 0              # chunked: offset of the next chunk-size line
        self._size = 0            # bytes in the buffer
        self._done = False

    def feed(self, buf, size: int) -> None:
        self._size = size
        if self.head_end is None:
            end = bytes(buf[:min(size, 64 << 10)]).find(b"\r\n\r\n")
            if end < 0:
                if size >= 64 << 10:
                    raise EchoError("response head larger than 64 KiB")
                return
            self._parse_head(bytes(buf[:end]).decode("latin-1"))
            self.head_end = self._at = end + 4
        if self.length is not None:
            if size >= self.head_end + self.length:
                self.slices = [(self.head_end, self.head_end + self.length)]
                self._done = True
        elif self.chunked:
            self._walk_chunks(buf)

    def closed(self) -> None:
        if self.until_close and self.head_end is not None:
            self.slices = [(self.head_end, self._size)]
            self._done = True

    def done(self) -> bool:
        return self._done

    def _parse_head(self, head: str) -> None:
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise EchoError(f"bad status line {lines[0]!r}")
        self.status = int(parts[1])
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                self.length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                self.chunked = True
        if self.chunked:
            self.length = None
        elif self.length is None:
            self.until_close = True

    def _walk_chunks(self, buf) -> None:
        while True:
            eol = bytes(buf[self._at:min(self._size, self._at + 64)]).find(b"\r\n")
            if eol < 0:
                if self._size - self._at >= 64:
                    raise EchoError(f"bad chunk size line at offset {self._at}")
                return
            size = int(bytes(buf[self._at:self._at + eol]).split(b";")[0], 16)
            data = self._at + eol + 2
            if size == 0:
                # The last chunk; this client sends no trailers and expects none.
                if self._size >= data + 2:
                    self._done = True
                return
            if self._size < data + size + 2:
                return
            self.slices.append((data, data + size))
            self._at = data + size + 2


def echo_once(port: int, path: str, body: bytes, timeout: float) -> float:
    """Seconds for one echo of body through 127.0.0.1:port; raises EchoError on any failure."""
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n").encode()
    # Room for the body, a chunked framing of 16 KiB pieces and the head, grown if short.
    buf = bytearray(len(body) + len(body) // 512 + (256 << 10))
    view = memoryview(buf)
    parser = ResponseParser()
    sent = []
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except OSError as e:
        raise EchoError(f"connect to port {port}: {e}") from e
    with sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        start = time.perf_counter()

        def send():
            try:
                sock.sendall(head)
                sock.sendall(memoryview(body))
                sent.append(None)
            except OSError as e:
                sent.append(e)

        sender = threading.Thread(target=send)
        sender.start()
        size = 0
        try:
            while not parser.done():
                if size == len(buf):
                    buf.extend(bytes(len(buf) // 2))
                    view.release()
                    view = memoryview(buf)
                n = sock.recv_into(view[size:])
                if n == 0:
                    parser.closed()
                    break
                size += n
                parser.feed(buf, size)
        except OSError as e:
            raise EchoError(f"POST {path} on port {port}: {e}") from e
        finally:
            took = time.perf_counter() - start
            sender.join(timeout=timeout)
    if not parser.done():
        raise EchoError(f"POST {path} on port {port}: the answer broke off after {size} bytes")
    if sent != [None]:
        raise EchoError(f"POST {path} on port {port}: sending {len(body)} bytes failed: {sent}")
    if parser.status != 200:
        raise EchoError(f"POST {path} on port {port}: status {parser.status}")
    got = sum(end - begin for begin, end in parser.slices)
    if got != len(body):
        raise EchoError(f"POST {path} on port {port} with {len(body)} bytes: {got} bytes back")
    at = 0
    for begin, end in parser.slices:
        if view[begin:end] != memoryview(body)[at:at + end - begin]:
            raise EchoError(f"POST {path} on port {port}: different bytes back at offset {at}")
        at += end - begin
    view.release()
    return took
