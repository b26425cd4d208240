#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_http2_server: client byte streams a gRPC client (or a broken
one) sends, framed and HPACK-encoded by hand (literal headers, no Huffman) so nothing beyond
Python is needed. Each file: [behaviour][chunk size] + frames (see fuzz_http2_server.cc).
Run from this directory: ./make_corpus.py"""
import os
import struct

DATA, HEADERS, PRIORITY, RST, SETTINGS, PING, GOAWAY, WINDOW, CONT = 0, 1, 2, 3, 4, 6, 7, 8, 9
END_STREAM, END_HEADERS, PADDED = 0x1, 0x4, 0x8


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def hpack_int(v, prefix_bits, first=0):
    limit = (1 << prefix_bits) - 1
    if v < limit:
        return bytes([first | v])
    out = bytearray([first | limit])
    v -= limit
    while v >= 128:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def hpack(headers):
    out = b""
    for k, v in headers:
        k, v = k.encode(), v.encode()
        out += b"\x00" + hpack_int(len(k), 7) + k + hpack_int(len(v), 7) + v
    return out


def grpc_headers(path="/dapr.proto.internals.v1.ServiceInvocation/CallLocal", method="POST",
                 ctype="application/grpc", extra=()):
    return [(":method", method), (":scheme", "http"), (":path", path), (":authority", "127.0.0.1"),
            ("content-type", ctype), ("te", "trailers")] + list(extra)


def msg(body, flag=0):
    return bytes([flag]) + struct.pack(">I", len(body)) + body


def settings(**params):
    ids = {"table": 1, "push": 2, "streams": 3, "window": 4, "frame": 5, "headers": 6}
    return frame(SETTINGS, 0, 0, b"".join(struct.pack(">HI", ids[k], v) for k, v in params.items()))


def unary(stream, body=b"hello", **kw):
    return (frame(HEADERS, END_HEADERS, stream, hpack(grpc_headers(**kw))) +
            frame(DATA, END_STREAM, stream, msg(body)))


seeds = {}
seeds["unary"] = (0x01, 0, settings() + unary(1))
seeds["unary-deferred"] = (0x03, 0, settings() + unary(1) + unary(3, b"x" * 300))
seeds["unary-byte-by-byte"] = (0x01, 1, settings() + unary(1))
seeds["unary-metadata"] = (0x01, 0, settings() + unary(1, extra=[
    ("dapr-app-id", "b"), ("grpc-timeout", "100m"), ("x-bin-bin", "AAEC"), ("user-agent", "fuzz")]))
seeds["stream-echo"] = (0x05, 0, settings() + frame(HEADERS, END_HEADERS, 1, hpack(grpc_headers(
    "/dapr.proto.internals.v1.ServiceInvocation/CallLocalStream"))) +
    frame(DATA, 0, 1, msg(b"a" * 100)) + frame(DATA, 0, 1, msg(b"b" * 7)[:3]) +
    frame(DATA, 0, 1, msg(b"b" * 7)[3:]) + frame(DATA, END_STREAM, 1))
seeds["stream-cancel"] = (0x07, 0, seeds["stream-echo"][2])
seeds["stream-sliced-flush"] = (0x15, 0, settings(window=100) + frame(HEADERS, END_HEADERS, 1,
    hpack(grpc_headers())) + frame(DATA, 0, 1, msg(b"z" * 4000)) + frame(WINDOW, 0, 1,
    struct.pack(">I", 50)) + frame(WINDOW, 0, 0, struct.pack(">I", 1000)) + frame(DATA, END_STREAM, 1))
seeds["interleaved-rst"] = (0x03, 7, settings() +
    frame(HEADERS, END_HEADERS, 1, hpack(grpc_headers())) +
    frame(HEADERS, END_HEADERS, 3, hpack(grpc_headers())) +
    frame(DATA, 0, 1, msg(b"one")[:4]) + frame(RST, 0, 3, struct.pack(">I", 8)) +
    frame(DATA, END_STREAM, 1, msg(b"one")[4:]) + unary(5) + frame(RST, 0, 5, struct.pack(">I", 8)))
hb = hpack(grpc_headers())
seeds["continuation"] = (0x01, 0, settings() + frame(HEADERS, 0, 1, hb[:20]) +
    frame(CONT, 0, 1, hb[20:40]) + frame(CONT, END_HEADERS, 1, hb[40:]) +
    frame(DATA, END_STREAM, 1, msg(b"c")))
seeds["oversize-message"] = (0x09, 0, settings() + unary(1, b"q" * 64))
seeds["declared-huge"] = (0x01, 0, settings() + frame(HEADERS, END_HEADERS, 1, hb) +
    frame(DATA, END_STREAM, 1, b"\x00\x7f\xff\xff\xff" + b"x" * 10))
seeds["compressed-flag"] = (0x01, 0, settings() + frame(HEADERS, END_HEADERS, 1, hb) +
    frame(DATA, END_STREAM, 1, msg(b"gz", 1)))
seeds["bad-method"] = (0x01, 0, settings() + unary(1, method="GET"))
seeds["bad-content-type"] = (0x01, 0, settings() + unary(1, ctype="text/plain"))
seeds["bad-timeout"] = (0x01, 0, settings() + unary(1, extra=[("grpc-timeout", "999999999H")]))
seeds["control-frames"] = (0x01, 0, settings(streams=1, frame=16384, headers=100) +
    frame(PING, 0, 0, b"12345678") + frame(PRIORITY, 0, 1, struct.pack(">IB", 0, 16)) +
    frame(WINDOW, 0, 0, struct.pack(">I", 1 << 20)) + unary(1) +
    frame(GOAWAY, 0, 0, struct.pack(">II", 1, 0)))
pad = 5
seeds["padded"] = (0x01, 0, settings() +
    frame(HEADERS, END_HEADERS | PADDED, 1, bytes([pad]) + hb + b"\x00" * pad) +
    frame(DATA, END_STREAM | PADDED, 1, bytes([pad]) + msg(b"p") + b"\x00" * pad))
seeds["shutdown-midway"] = (0x21, 0, settings() + unary(1) + unary(3) + unary(5) + unary(7))
seeds["no-preface"] = (0x00, 0, settings() + unary(1))
seeds["even-stream-id"] = (0x01, 0, settings() + unary(2))
seeds["header-list-too-big"] = (0x01, 0, settings() + unary(1, extra=[("x-big", "v" * 70000)]))
seeds["trailers-from-client"] = (0x01, 0, settings() + frame(HEADERS, END_HEADERS, 1, hb) +
    frame(DATA, 0, 1, msg(b"t")) + frame(HEADERS, END_HEADERS | END_STREAM, 1,
    hpack([("x-client-trailer", "1")])))

seeds["deferred-then-reset"] = (0x03, 0, settings() + unary(1) + unary(3) +
    frame(RST, 0, 1, struct.pack(">I", 8)))
seeds["stream-reset-midway"] = (0x05, 0, settings() + frame(HEADERS, END_HEADERS, 1, hb) +
    frame(DATA, 0, 1, msg(b"r" * 50)) + frame(RST, 0, 1, struct.pack(">I", 8)) +
    frame(HEADERS, END_HEADERS, 3, hb) + frame(DATA, END_STREAM, 3, msg(b"s")))

os.makedirs("corpus", exist_ok=True)
for name, (behaviour, chunk, body) in seeds.items():
    with open(os.path.join("corpus", name), "wb") as f:
        f.write(bytes([behaviour, chunk]) + body)
print(f"wrote {len(seeds)} seeds")
