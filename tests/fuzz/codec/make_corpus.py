#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_codec: a few valid Dapr invocation messages, hand-encoded
so that no protobuf Python package is needed. Run from this directory: ./make_corpus.py"""
import os


def varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def key(field, wt):
    return varint(field << 3 | wt)


def vint(field, v):
    return key(field, 0) + varint(v)


def ld(field, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return key(field, 2) + varint(len(payload)) + payload


def any_(type_url, value):
    return (ld(1, type_url) if type_url else b"") + (ld(2, value) if value else b"")


def entry(k, *values):
    return ld(1, k) + ld(2, b"".join(ld(1, v) for v in values))


def invoke_request(method, body, ctype, verb=None, query=""):
    m = ld(1, method) + ld(2, any_("", body)) + ld(3, ctype)
    if verb is not None:
        m += ld(4, (vint(1, verb) if verb else b"") + (ld(2, query) if query else b""))
    return m


def internal_request(md, msg):
    return vint(1, 1) + b"".join(ld(2, entry(k, *vs)) for k, vs in md) + ld(3, msg)


def internal_response(code, headers, trailers, msg, status_msg="", details=()):
    st = (vint(1, code) if code else b"") + (ld(2, status_msg) if status_msg else b"")
    st += b"".join(ld(3, any_(t, v)) for t, v in details)
    out = ld(1, st)
    out += b"".join(ld(2, entry(k, *vs)) for k, vs in headers)
    out += b"".join(ld(3, entry(k, *vs)) for k, vs in trailers)
    return out + ld(4, msg)


MD = [("dapr-caller-app-id", ["checkout"]), ("dapr-callee-app-id", ["orders"]),
      ("traceparent", ["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"]),
      ("accept", ["application/json", "text/plain"]), ("x-ünï", ["日本"])]

SEEDS = {
    "http_get.bin": internal_request(MD, invoke_request("orders/42", b"", "", 1, "a=1&b=%20")),
    "http_post.bin": internal_request(MD, invoke_request("orders", b'{"id":42}', "application/json", 3)),
    "grpc_request.bin": internal_request(MD[:2], ld(1, "SayHello") + ld(2, any_("type.googleapis.com/hello.Req", b"\x0a\x03bob"))),
    "http_response.bin": internal_response(200, [("content-type", ["application/json"])], [],
                                           ld(1, any_("", b'{"ok":true}')) + ld(2, "application/json")),
    "grpc_error.bin": internal_response(5, [("x-h", ["1"])], [("grpc-status", ["5"])], b"", "not found",
                                        [("type.googleapis.com/google.rpc.ErrorInfo", b"\x0a\x03why")]),
    "on_invoke.bin": invoke_request("method", b"\x00\x01\x02", "application/octet-stream", 4, "q"),
    "stream_first.bin": ld(1, internal_request(MD, invoke_request("upload", b"", "text/plain", 3))) +
                        ld(2, ld(1, b"chunk-0")),
    "stream_chunk.bin": ld(2, ld(1, b"x" * 2048) + vint(2, 7)),
    "invoke_service.bin": ld(1, "orders.prod") + ld(3, invoke_request("m", b"body", "text/plain")),
    "unknown_fields.bin": vint(1000, 5) + key(1001, 3) + vint(1, 2) + key(1001, 4) +
                          key(1002, 5) + b"\x01\x02\x03\x04" + ld(3, invoke_request("m", b"", "")),
}

os.makedirs("corpus", exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join("corpus", name), "wb") as f:
        f.write(data)
