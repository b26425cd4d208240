"""Tests of bulk_echo.py: the response framing walked over a buffer that fills piece by piece
(Content-Length, chunked, until close; bad heads), and whole echoes against a loopback server
that answers each framing, including one that answers different bytes."""

import os
import socket
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bulk_echo import EchoError, ResponseParser, echo_once  # noqa: E402


def feed_in_pieces(raw: bytes, piece: int, close: bool = False) -> ResponseParser:
    p = ResponseParser()
    buf = bytearray(raw)
    for size in range(piece, len(raw) + piece, piece):
        p.feed(buf, min(size, len(raw)))
        if p.done():
            break
    if close and not p.done():
        p.closed()
    return p


def body_of(p: ResponseParser, raw: bytes) -> bytes:
    return b"".join(raw[b:e] for b, e in p.slices)


class ParserTest(unittest.TestCase):
    def test_content_length(self):
        raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
        for piece in (1, 3, 100):
            p = feed_in_pieces(raw, piece)
            self.assertTrue(p.done())
            self.assertEqual((p.status, body_of(p, raw)), (200, b"hello"))

    def test_chunked_with_extensions_and_pieces_split_anywhere(self):
        raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\na\r\n0123456789\r\n0\r\n\r\n"
        for piece in (1, 2, 7, 1000):
            p = feed_in_pieces(raw, piece)
            self.assertTrue(p.done(), piece)
            self.assertEqual(body_of(p, raw), b"abc0123456789")

    def test_an_unfinished_chunked_answer_is_not_done(self):
        raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"
        self.assertFalse(feed_in_pieces(raw, 4, close=True).done())

    def test_until_close(self):
        raw = b"HTTP/1.0 200 OK\r\n\r\nall of it"
        p = feed_in_pieces(raw, 4, close=True)
        self.assertTrue(p.done())
        self.assertEqual(body_of(p, raw), b"all of it")

    def test_bad_status_line_and_chunk_size(self):
        with self.assertRaises(EchoError):
            feed_in_pieces(b"HTTP/2 200\r\n\r\n", 100)
        with self.assertRaises(EchoError):
            feed_in_pieces(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"z" * 100, 200)


class Server:
    """Reads one request with a Content-Length body and answers it with `answer(body)`."""

    def __init__(self, answer):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, args=(answer,), daemon=True)
        self.thread.start()

    def serve(self, answer):
        conn, _ = self.sock.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = int([line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")][0])
            while len(body) < length:
                body += conn.recv(1 << 20)
            conn.sendall(answer(body))
        self.sock.close()


def chunked(body: bytes) -> bytes:
    out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    for i in range(0, len(body), 16384):
        piece = body[i:i + 16384]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n\r\n"


class EchoTest(unittest.TestCase):
    body = os.urandom(3 << 20)

    def test_each_framing_echoes(self):
        for answer in (lambda b: b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(b) + b,
                       chunked,
                       lambda b: b"HTTP/1.0 200 OK\r\n\r\n" + b):
            s = Server(answer)
            self.assertGreater(echo_once(s.port, "/echo", self.body, 10), 0)

    def test_different_bytes_or_status_fail(self):
        flipped = lambda b: chunked(b[:-1] + bytes([b[-1] ^ 1]))  # noqa: E731
        for answer, error in ((flipped, "different bytes"),
                              (lambda b: b"HTTP/1.1 500 x\r\nContent-Length: 0\r\n\r\n", "status 500"),
                              (lambda b: chunked(b)[:-5], "broke off")):
            s = Server(answer)
            with self.assertRaises(EchoError) as e:
                echo_once(s.port, "/echo", self.body, 10)
            self.assertIn(error, str(e.exception))


if __name__ == "__main__":
    unittest.main()
