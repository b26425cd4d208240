#!/usr/bin/python3
"""Talks to a (test) avahi-daemon over D-Bus with raw DNS records, because avahi's service API
(avahi-publish -s, avahi-browse) refuses daprd's one-label service type "<appId>" (it wants
"_x._tcp"). Uses the system bus given by DBUS_SYSTEM_BUS_ADDRESS.

  avahi_records.py publish --service myapp --instance 'box:42' --host box --port 50002 \
      --address 198.51.100.3 [--txt myapp]
      Publishes the records daprd's mdns resolver announces (PTR, SRV, TXT, A), prints
      "published" once avahi established them, then stays until killed.
  avahi_records.py browse --service myapp --timeout 5
      Browses avahi's view of the service and prints one JSON line per complete instance:
      {"instance", "target", "port", "txt", "addresses"}; exit 0 after the first complete one,
      1 on timeout.
"""
import argparse
import json
import socket
import struct
import sys
import time

import dbus
import dbus.mainloop.glib
from gi.repository import GLib

IF_UNSPEC, PROTO_INET = -1, 0
CLASS_IN = 1
TYPE_A, TYPE_PTR, TYPE_TXT, TYPE_SRV = 1, 12, 16, 33
PUBLISH_UNIQUE, PUBLISH_NO_PROBE = 1, 2
GROUP_ESTABLISHED, GROUP_COLLISION, GROUP_FAILURE = 2, 3, 4


def wire_name(dotted):
    out = b""
    for label in [l for l in dotted.split(".") if l]:
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def read_name(data, at=0):
    labels = []
    while data[at] != 0:
        n = data[at]
        labels.append(bytes(data[at + 1:at + 1 + n]).decode(errors="replace"))
        at += 1 + n
    return ".".join(labels) + ".", at + 1


def server(bus):
    return dbus.Interface(bus.get_object("org.freedesktop.Avahi", "/"), "org.freedesktop.Avahi.Server")


def publish(args):
    bus = dbus.SystemBus()
    path = server(bus).EntryGroupNew()
    group = dbus.Interface(bus.get_object("org.freedesktop.Avahi", path), "org.freedesktop.Avahi.EntryGroup")
    service = f"{args.service}.local."
    instance = f"{args.instance}.{service}"
    host = f"{args.host}.local."
    unique = PUBLISH_UNIQUE | PUBLISH_NO_PROBE  # cache-flush bit, as zeroconf sends SRV/TXT/A
    records = [
        (0, service, TYPE_PTR, 3200, wire_name(instance)),
        (unique, instance, TYPE_SRV, 3200, struct.pack(">HHH", 0, 0, args.port) + wire_name(host)),
        (unique, instance, TYPE_TXT, 3200, b"".join(bytes([len(t)]) + t.encode() for t in args.txt)),
        (unique, host, TYPE_A, 120, socket.inet_aton(args.address)),
    ]
    for flags, name, rtype, ttl, rdata in records:
        group.AddRecord(dbus.Int32(IF_UNSPEC), dbus.Int32(PROTO_INET), dbus.UInt32(flags), name,
                        dbus.UInt16(CLASS_IN), dbus.UInt16(rtype), dbus.UInt32(ttl),
                        dbus.Array(rdata, signature="y"))
    group.Commit()
    deadline = time.time() + 10
    while time.time() < deadline:
        state = group.GetState()
        if state == GROUP_ESTABLISHED:
            print("published", flush=True)
            while True:
                time.sleep(3600)
        if state in (GROUP_COLLISION, GROUP_FAILURE):
            print(f"entry group failed: state {state}", file=sys.stderr)
            return 1
        time.sleep(0.05)
    print("entry group not established within 10 s", file=sys.stderr)
    return 1


def browse(args):
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SystemBus()
    srv = server(bus)
    loop = GLib.MainLoop()
    found = {}       # instance -> dict
    browsers = {}    # browser object path -> (kind, key)
    result = {"rc": 1}

    def new_browser(name, rtype, kind, key):
        path = srv.RecordBrowserNew(dbus.Int32(IF_UNSPEC), dbus.Int32(PROTO_INET), name,
                                    dbus.UInt16(CLASS_IN), dbus.UInt16(rtype), dbus.UInt32(0))
        browsers[str(path)] = (kind, key)

    def complete(entry):
        return "port" in entry and "txt" in entry and entry.get("addresses")

    def on_item(interface, protocol, name, clazz, rtype, rdata, flags, path=None):
        if str(path) not in browsers:
            return
        kind, key = browsers[str(path)]
        data = bytes(rdata)
        if kind == "ptr":
            instance, _ = read_name(data)
            if instance not in found:
                found[instance] = {"instance": instance}
                new_browser(instance, TYPE_SRV, "srv", instance)
                new_browser(instance, TYPE_TXT, "txt", instance)
        elif kind == "srv":
            _, _, port = struct.unpack(">HHH", data[:6])
            target, _ = read_name(data, 6)
            found[key].update(port=port, target=target)
            new_browser(target, TYPE_A, "a", key)
        elif kind == "txt":
            txt, at = [], 0
            while at < len(data):
                n = data[at]
                txt.append(data[at + 1:at + 1 + n].decode(errors="replace"))
                at += 1 + n
            found[key]["txt"] = txt
        elif kind == "a":
            found[key].setdefault("addresses", []).append(socket.inet_ntoa(data))
        for entry in found.values():
            if complete(entry):
                print(json.dumps(entry), flush=True)
                result["rc"] = 0
                loop.quit()
                return

    # Subscribed before any browser exists, so no early signal is missed.
    bus.add_signal_receiver(on_item, signal_name="ItemNew", dbus_interface="org.freedesktop.Avahi.RecordBrowser",
                            path_keyword="path")
    new_browser(f"{args.service}.local.", TYPE_PTR, "ptr", None)
    GLib.timeout_add(int(args.timeout * 1000), loop.quit)
    loop.run()
    if result["rc"] != 0:
        print(f"no complete instance of {args.service}.local. within {args.timeout} s; partial: "
              f"{json.dumps(list(found.values()))}", file=sys.stderr)
    return result["rc"]


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    pub = sub.add_parser("publish")
    pub.add_argument("--service", required=True)
    pub.add_argument("--instance", required=True)
    pub.add_argument("--host", required=True)
    pub.add_argument("--port", type=int, required=True)
    pub.add_argument("--address", required=True)
    pub.add_argument("--txt", action="append")
    br = sub.add_parser("browse")
    br.add_argument("--service", required=True)
    br.add_argument("--timeout", type=float, default=5)
    args = p.parse_args()
    if args.cmd == "publish":
        args.txt = args.txt or [args.service]
        return publish(args)
    return browse(args)


if __name__ == "__main__":
    sys.exit(main())
