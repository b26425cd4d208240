#!/usr/bin/env python3
"""A stand-in for a Consul agent's HTTP API, for ringside's consul resolver tests.

No Consul server ships in Debian, so the tests run this double instead. It follows Consul's
documented HTTP API for the endpoints daprd's consul resolver uses:

  GET  /v1/agent/self
  PUT  /v1/agent/service/register                (body: AgentServiceRegistration JSON)
  PUT  /v1/agent/service/deregister/<service id>
  GET  /v1/agent/services, GET /v1/agent/checks
  PUT  /v1/agent/check/pass|warn|fail/<check id>  (TTL-check updates; allowed on any check here)
  GET  /v1/health/service/<name>?passing=1        (blocking queries: ?index=N&wait=10s,
                                                   X-Consul-Index on every answer)

Semantics kept: one raft-like index bumped by every change; a blocking query with index=N
returns as soon as the index passes N, else after `wait` (default 5m, max 10m) with the same
index; `passing` drops entries with any check not "passing" (the node's serfHealth included);
Service.Address empty means Node.Address; new checks start "critical" unless they carry a
Status; HTTP checks are run by the double (GET, 2xx passing, 429 warning, else critical) at
registration and every Interval; ?dc= other than ours answers 500 like Consul; with --token,
requests without a matching X-Consul-Token get 403 (ACL deny).

Not Consul: /_double/* endpoints expose what was received (raw registration bodies, request
log) for the tests' assertions; `filter` expressions are refused with 400 (not implemented).

Usage: consul_api_double.py --port 0 --port-file FILE [--token T] [--node-address 127.0.0.1]
"""

import argparse
import json
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DATACENTER = "dc1"
NODE = "double-node"


class State:
    def __init__(self, node_address):
        self.cv = threading.Condition()
        self.index = 1
        self.node_address = node_address
        self.services = {}  # id -> AgentService-like dict
        self.checks = {}  # check id -> check dict
        self.registrations = []  # raw bodies received, in order
        self.deregistrations = []  # ids, in order
        self.requests = []  # {"method", "path", "query", "token"}

    def bump(self):
        self.index += 1
        self.cv.notify_all()


def parse_go_duration(text):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)?", text or "")
    if not m:
        raise ValueError("bad duration %r" % text)
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]
    return float(m.group(1)) * scale


def make_handler(state, token):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # quiet; the tests read /_double/requests
            pass

        def setup(self):
            super().setup()
            # Go's net/http (the real agent) sets TCP_NODELAY; without it the header and body
            # writes meet Nagle plus delayed ACKs (~40 ms per answer).
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        # -- plumbing ---------------------------------------------------------------------
        def reply(self, code, body=None, index=None, text=None):
            data = text.encode() if text is not None else json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain" if text is not None else "application/json")
            if index is not None:
                self.send_header("X-Consul-Index", str(index))
                self.send_header("X-Consul-KnownLeader", "true")
                self.send_header("X-Consul-LastContact", "0")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def read_body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def route(self, method):
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
            path = url.path
            with state.cv:
                state.requests.append({"method": method, "path": path, "query": url.query,
                                       "token": self.headers.get("X-Consul-Token", ""),
                                       "content_type": self.headers.get("Content-Type", "")})
            body = self.read_body() if method == "PUT" else b""
            if path.startswith("/_double/"):
                return self.double_endpoint(path)
            if token and self.headers.get("X-Consul-Token") != token:
                return self.reply(403, text="Permission denied")
            if "dc" in query and query["dc"][0] != DATACENTER:
                return self.reply(500, text="No path to datacenter")
            if "filter" in query:
                return self.reply(400, text="filter expressions are not implemented by the Consul API double")
            if method == "GET" and path == "/v1/agent/self":
                return self.reply(200, {"Config": {"Datacenter": DATACENTER, "NodeName": NODE},
                                        "Member": {"Name": NODE, "Addr": state.node_address}})
            if method == "PUT" and path == "/v1/agent/service/register":
                return self.register(body)
            m = re.fullmatch(r"/v1/agent/service/deregister/(.+)", path)
            if method == "PUT" and m:
                return self.deregister(urllib.parse.unquote(m.group(1)))
            # Issue 10 (app health): service maintenance mode, as the agent does it: a critical
            # check "_service_maintenance:<id>" while enabled, removed when disabled.
            m = re.fullmatch(r"/v1/agent/service/maintenance/(.+)", path)
            if method == "PUT" and m:
                return self.maintenance(urllib.parse.unquote(m.group(1)), query)
            m = re.fullmatch(r"/v1/agent/check/(pass|warn|fail)/(.+)", path)
            if method == "PUT" and m:
                status = {"pass": "passing", "warn": "warning", "fail": "critical"}[m.group(1)]
                return self.set_check(urllib.parse.unquote(m.group(2)), status, query.get("note", [""])[0])
            if method == "GET" and path == "/v1/agent/services":
                with state.cv:
                    return self.reply(200, state.services)
            if method == "GET" and path == "/v1/agent/checks":
                with state.cv:
                    return self.reply(200, state.checks)
            m = re.fullmatch(r"/v1/health/service/(.+)", path)
            if method == "GET" and m:
                return self.health_service(urllib.parse.unquote(m.group(1)), query)
            return self.reply(404, text="Invalid URL path: not a recognized HTTP API endpoint")

        def do_GET(self):
            self.route("GET")

        def do_PUT(self):
            self.route("PUT")

        # -- endpoints --------------------------------------------------------------------
        def register(self, raw):
            try:
                reg = json.loads(raw or b"null")
            except ValueError as e:
                return self.reply(400, text="Request decode failed: %s" % e)
            if not isinstance(reg, dict):
                return self.reply(400, text="Request decode failed: not an object")
            name = reg.get("Name") or ""
            if not name:
                return self.reply(400, text="Missing service name")
            sid = reg.get("ID") or name
            port = reg.get("Port") or 0
            if not isinstance(port, int):
                return self.reply(400, text="Request decode failed: Port is not a number")
            checks = []
            if reg.get("Check"):
                checks.append(reg["Check"])
            checks.extend(c for c in (reg.get("Checks") or []) if c)
            with state.cv:
                state.registrations.append(reg)
                # Re-registering replaces the service and its checks.
                for cid in [c for c, v in state.checks.items() if v["ServiceID"] == sid]:
                    del state.checks[cid]
                state.services[sid] = {
                    "ID": sid, "Service": name, "Tags": reg.get("Tags") or [],
                    "Meta": reg.get("Meta") or {}, "Port": port, "Address": reg.get("Address") or "",
                    "Weights": reg.get("Weights") or {"Passing": 1, "Warning": 1},
                    "EnableTagOverride": bool(reg.get("EnableTagOverride")), "Datacenter": DATACENTER,
                }
                http_checks = []
                for n, c in enumerate(checks):
                    cid = c.get("CheckID") or ("service:%s" % sid if len(checks) == 1 else "service:%s:%d" % (sid, n + 1))
                    state.checks[cid] = {
                        "Node": NODE, "CheckID": cid, "Name": c.get("Name") or "Service '%s' check" % name,
                        "Status": c.get("Status") or "critical", "Notes": c.get("Notes") or "", "Output": "",
                        "ServiceID": sid, "ServiceName": name, "ServiceTags": reg.get("Tags") or [],
                        "Type": "http" if c.get("HTTP") else ("ttl" if c.get("TTL") else ""),
                        "Definition": {k: v for k, v in c.items() if k in ("HTTP", "Interval", "Timeout", "TTL", "Method", "Header")},
                    }
                    if c.get("HTTP"):
                        http_checks.append((cid, c))
                state.bump()
            for cid, c in http_checks:
                threading.Thread(target=run_http_check, args=(state, sid, cid, c), daemon=True).start()
            return self.reply(200, text="")

        def deregister(self, sid):
            with state.cv:
                state.deregistrations.append(sid)
                if sid not in state.services:
                    return self.reply(404, text='Unknown service ID "%s". Ensure that the service ID is passed, not the service name.' % sid)
                del state.services[sid]
                for cid in [c for c, v in state.checks.items() if v["ServiceID"] == sid]:
                    del state.checks[cid]
                state.bump()
            return self.reply(200, text="")

        def maintenance(self, sid, query):  # issue 10
            if "enable" not in query:
                return self.reply(400, text="Missing value for enable")
            enable = query["enable"][0].lower() in ("1", "true")
            cid = "_service_maintenance:" + sid
            with state.cv:
                if sid not in state.services:
                    return self.reply(404, text='Unknown service ID "%s"' % sid)
                if enable:
                    state.checks[cid] = {"Node": NODE, "CheckID": cid, "Name": "Service Maintenance Mode",
                                         "Status": "critical", "Notes": query.get("reason", [""])[0],
                                         "Output": "", "ServiceID": sid,
                                         "ServiceName": state.services[sid]["Service"], "Definition": {}}
                else:
                    state.checks.pop(cid, None)
                state.bump()
            return self.reply(200, text="")

        def set_check(self, cid, status, note):
            with state.cv:
                if cid not in state.checks:
                    return self.reply(404, text='Unknown check ID "%s"' % cid)
                state.checks[cid]["Status"] = status
                state.checks[cid]["Output"] = note
                state.bump()
            return self.reply(200, text="")

        def health_service(self, name, query):
            passing_only = "passing" in query and query["passing"][0].lower() not in ("0", "false")
            try:
                index = int(query.get("index", ["0"])[0] or 0)
                wait = parse_go_duration(query["wait"][0]) if "wait" in query else 300.0
            except ValueError as e:
                return self.reply(400, text=str(e))
            wait = min(wait, 600.0)
            deadline = time.monotonic() + wait
            with state.cv:
                if index > 0:
                    while state.index <= index:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            break
                        state.cv.wait(left)
                entries = []
                for sid, svc in sorted(state.services.items()):
                    if svc["Service"] != name:
                        continue
                    checks = [{"Node": NODE, "CheckID": "serfHealth", "Name": "Serf Health Status",
                               "Status": "passing", "ServiceID": "", "ServiceName": ""}]
                    checks += [dict(c) for c in state.checks.values() if c["ServiceID"] == sid]
                    if passing_only and any(c["Status"] != "passing" for c in checks):
                        continue
                    entries.append({
                        "Node": {"ID": "", "Node": NODE, "Address": state.node_address, "Datacenter": DATACENTER,
                                 "TaggedAddresses": {"lan": state.node_address}, "Meta": {}},
                        "Service": dict(svc),
                        "Checks": checks,
                    })
                return self.reply(200, entries, index=state.index)

        def double_endpoint(self, path):
            with state.cv:
                if path == "/_double/registrations":
                    return self.reply(200, state.registrations)
                if path == "/_double/deregistrations":
                    return self.reply(200, state.deregistrations)
                if path == "/_double/requests":
                    return self.reply(200, state.requests)
                if path == "/_double/index":
                    return self.reply(200, {"Index": state.index})
            return self.reply(404, text="unknown double endpoint")

    return Handler


def run_http_check(state, sid, cid, check):
    interval = 10.0
    try:
        interval = max(parse_go_duration(check.get("Interval") or "10s"), 0.05)
    except ValueError:
        pass
    while True:
        status = "critical"
        try:
            req = urllib.request.Request(check["HTTP"], method=check.get("Method") or "GET")
            with urllib.request.urlopen(req, timeout=2) as r:
                status = "passing" if 200 <= r.status < 300 else "critical"
        except urllib.error.HTTPError as e:
            status = "warning" if e.code == 429 else "critical"
        except Exception:  # refused, timed out: critical, as Consul
            status = "critical"
        with state.cv:
            c = state.checks.get(cid)
            if c is None or c["ServiceID"] != sid:
                return  # deregistered or replaced
            if c["Status"] != status:
                c["Status"] = status
                state.bump()
        time.sleep(interval)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", default="")
    ap.add_argument("--token", default="")
    ap.add_argument("--node-address", default="127.0.0.1")
    args = ap.parse_args()
    state = State(args.node_address)
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(state, args.token))
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        import os
        os.rename(tmp, args.port_file)
    print("consul api double on 127.0.0.1:%d" % port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
