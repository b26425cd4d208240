#!/usr/bin/env python3
"""Writes the seed corpus for fuzz_mdns_packet: a daprd-style browse query, a zeroconf-style
answer with compressed names, an announcement, a goodbye and a legacy unicast query."""
import os
import struct

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


class Msg:
    def __init__(self):
        self.buf = bytearray()
        self.offsets = {}

    def name(self, dotted):
        labels = [l for l in dotted.split(".") if l]
        for i in range(len(labels)):
            key = ".".join(labels[i:]).lower()
            if key in self.offsets:
                self.buf += struct.pack(">H", 0xC000 | self.offsets[key])
                return
            self.offsets[key] = len(self.buf)
            self.buf += bytes([len(labels[i])]) + labels[i].encode()
        self.buf += b"\0"

    def header(self, ident, flags, qd, an, ns, ar):
        self.buf += struct.pack(">HHHHHH", ident, flags, qd, an, ns, ar)

    def question(self, name, qtype, qclass=1):
        self.name(name)
        self.buf += struct.pack(">HH", qtype, qclass)

    def record(self, name, rtype, ttl, rdata_fn, rclass=1):
        self.name(name)
        self.buf += struct.pack(">HHI", rtype, rclass, ttl)
        at = len(self.buf)
        self.buf += b"\0\0"
        rdata_fn(self)
        struct.pack_into(">H", self.buf, at, len(self.buf) - at - 2)


def announce(ttl):
    m = Msg()
    m.header(0, 0x8400, 0, 6, 0, 0)
    inst = "box:4242.myapp.local."
    m.record(inst, 33, ttl, lambda m: (m.buf.extend(struct.pack(">HHH", 0, 0, 50002)), m.name("box.local.")), 0x8001)
    m.record(inst, 16, ttl, lambda m: m.buf.extend(b"\x05myapp"), 0x8001)
    m.record("myapp.local.", 12, ttl, lambda m: m.name(inst))
    m.record("_services._dns-sd._udp.local.", 12, ttl, lambda m: m.name("myapp.local."))
    m.record("box.local.", 1, min(ttl, 120), lambda m: m.buf.extend(bytes([198, 51, 100, 10])), 0x8001)
    m.record("box.local.", 28, min(ttl, 120), lambda m: m.buf.extend(bytes(15) + b"\x01"), 0x8001)
    return bytes(m.buf)


def browse_answer():
    m = Msg()
    m.header(0, 0x8400, 0, 1, 0, 3)
    inst = "box:4242.myapp.local."
    m.record("myapp.local.", 12, 3200, lambda m: m.name(inst))
    m.record(inst, 33, 3200, lambda m: (m.buf.extend(struct.pack(">HHH", 0, 0, 50002)), m.name("box.local.")))
    m.record(inst, 16, 3200, lambda m: m.buf.extend(b"\x05myapp"))
    m.record("box.local.", 1, 120, lambda m: m.buf.extend(bytes([198, 51, 100, 10])))
    return bytes(m.buf)


def query(name, qtype, ident=0, qclass=1):
    m = Msg()
    m.header(ident, 0, 1, 0, 0, 0)
    m.question(name, qtype, qclass)
    return bytes(m.buf)


def main():
    os.makedirs(HERE, exist_ok=True)
    seeds = {
        "browse_query": query("myapp.local.", 12),
        "browse_query_qu": query("myapp.local.", 12, qclass=0x8001),
        "legacy_unicast_query": query("box:4242.myapp.local.", 255, ident=0x1234),
        "enumeration_query": query("_services._dns-sd._udp.local.", 12),
        "browse_answer": browse_answer(),
        "announcement": announce(3200),
        "goodbye": announce(0),
    }
    for name, data in seeds.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
