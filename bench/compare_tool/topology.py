"""Starts, for one protocol, the echo app and every contender's chain in front of it on free
ports of 127.0.0.1, checks each chain answers correctly, and stops exactly the processes it
started (by pid). Every chain mirrors ringside's: client -> proxy A -> proxy B -> app."""

import ctypes
import fcntl
import os
import random
import signal
import socket
import subprocess
import time
import urllib.request

from proxy_configs import haproxy_config, nginx_config

CONTENDERS = ("direct", "floor", "ringside", "haproxy", "nginx")  # the order of each round


# Ports come from just below the kernel's ephemeral range, through the counter file the test
# harness shares (tests/support/free_port/free_port.cc, same file, same scheme): a port from
# bind(0) may be handed to another process's outgoing connection before our proxy binds it.
PORT_COUNTER_FILE = "/tmp/ringside-test-port-counter"
LOWEST_PORT = 20000


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("0.0.0.0", port))
            return True
        except OSError:
            return False


_handed_out = set()  # every port this run gave a process


def free_port() -> int:
    """A port no process listens on and that this run has not handed out yet: haproxy and
    ringsided bind with SO_REUSEPORT, so two of our processes given the same port would both
    bind it and share its connections (one run saw 60% of wrk's requests answered by the wrong
    chain when two bind(0) calls returned the same port)."""
    for _ in range(100):
        port = _next_free_port()
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise RuntimeError("no port that this run has not handed out yet")


def _next_free_port() -> int:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        high = int(f.read().split()[0])  # exclusive
    span = high - LOWEST_PORT
    if span < 2000:  # too small a range to share: the kernel's choice
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]
    fd = os.open(PORT_COUNTER_FILE, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        text = os.pread(fd, 15, 0).decode(errors="replace").strip()
        nxt = int(text) if text.isdigit() else random.randrange(span)
        for _ in range(span):
            port = LOWEST_PORT + nxt % span
            nxt = (nxt + 1) % span
            if _bindable(port):
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{nxt}\n".encode(), 0)
                return port
        raise RuntimeError(f"no free port in {LOWEST_PORT}..{high - 1}")
    finally:
        os.close(fd)  # releases the lock


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when bench/compare dies, even by SIGKILL, so no proxy
    outlives it holding its port."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Contender:
    def __init__(self, name: str, port: int, proxy_pids: list, headers: list, path: str):
        self.name = name  # one of CONTENDERS
        self.port = port  # where the load generator connects
        self.proxy_pids = proxy_pids  # A and B (empty for direct): whose CPU/RSS we read
        self.headers = headers  # extra request headers (gRPC through ringside: dapr-app-id)
        self.path = path  # HTTP request path


def per_shard_values(metrics_text: str, name: str, shards: int) -> list:
    """Each shard's value of a per-shard series (`name{...,shard="i"} v`); 0 where absent."""
    values = [0.0] * shards
    for line in metrics_text.splitlines():
        if not line.startswith(name + "{"):
            continue
        labels, _, value = line.rpartition(" ")
        marker = 'shard="'
        at = labels.find(marker)
        if at < 0:
            continue
        shard = labels[at + len(marker):labels.find('"', at + len(marker))]
        if shard.isdigit() and int(shard) < shards:
            values[int(shard)] = float(value)
    return values


class Topology:
    def __init__(self, protocol: str, bin_dir: str, work_dir: str, shards: int, max_body_mib: int = 0,
                 callee_shards: int = 0):
        self.protocol, self.bin, self.work, self.shards = protocol, bin_dir, work_dir, shards
        self.callee_shards = callee_shards or shards  # ringside's B (0: as A)
        self.b_metrics_port = 0  # B's /metrics (the callee's per-shard load)
        self.max_body_mib = max_body_mib  # ringside's --max-body-size (0: its default, 4 MiB)
        self.procs = []  # every process we started, stopped in reverse order
        self.contenders = {}

    # -- process handling ------------------------------------------------------------------
    def _spawn(self, name: str, argv: list, env=None) -> int:
        log = open(os.path.join(self.work, f"{self.protocol}-{name}.log"), "w")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        self.procs.append((name, proc))
        return proc.pid

    def stop(self) -> None:
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for _, proc in reversed(self.procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs = []

    def _logs(self) -> str:
        out = []
        for name, _ in self.procs:
            path = os.path.join(self.work, f"{self.protocol}-{name}.log")
            with open(path, errors="replace") as f:
                tail = f.read()[-1500:]
            out.append(f"--- {name} ({path})\n{tail}")
        return "\n".join(out)

    def _check_alive(self) -> None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode} while starting "
                                   f"the {self.protocol} chains:\n{self._logs()}")

    # -- the chains ------------------------------------------------------------------------
    def start(self) -> None:
        grpc = self.protocol == "grpc"
        app = free_port()
        app_bin = "ringside-grpc-echo-app" if grpc else "ringside-echo-app"
        self._spawn("app", [os.path.join(self.bin, app_bin), "--port", str(app)])
        path = "/ringside.test.v1.Echo/Unary" if grpc else "/echo"
        self.contenders["direct"] = Contender("direct", app, [], [], path)
        self._start_ringside(app, path)
        self.contenders["floor"] = self._haproxy_pair("floor", app, "tcp", path)
        self.contenders["haproxy"] = self._haproxy_pair("haproxy", app, "h2c" if grpc else "http", path)
        self.contenders["nginx"] = self._nginx_pair(app, "h2c" if grpc else "http", path)
        for name in CONTENDERS:
            self._wait_ready(self.contenders[name])

    def _start_ringside(self, app: int, path: str) -> None:
        grpc = self.protocol == "grpc"
        env = dict(os.environ, RINGSIDE_NR_SQLITE=os.path.join(self.work, f"{self.protocol}-nr.db"))
        ports = {k: free_port() for k in ("ah", "ag", "bh", "bg", "bm")}
        self.b_metrics_port = ports["bm"]
        sidecar = os.path.join(self.bin, "ringsided")
        # The large-body pass needs room (daprd's default limit is 4 MiB); haproxy and nginx are
        # configured without a limit.
        limit = ["--max-body-size", f"{self.max_body_mib}Mi"] if self.max_body_mib > 4 else []
        b_argv = [sidecar, "--app-id", "b", "--app-port", str(app), "--dapr-http-port",
                  str(ports["bh"]), "--dapr-grpc-port", str(ports["bg"]), "--metrics-port", str(ports["bm"]),
                  "--shards", str(self.callee_shards)] + limit
        if grpc:
            b_argv += ["--app-protocol", "grpc"]
        b = self._spawn("ringside-b", b_argv, env)
        a = self._spawn("ringside-a", [sidecar, "--app-id", "a", "--dapr-http-port", str(ports["ah"]),
                                       "--dapr-grpc-port", str(ports["ag"]), "--enable-metrics=false",
                                       "--shards", str(self.shards)] + limit, env)
        if grpc:  # transparent gRPC proxying: the app's own method, routed by dapr-app-id
            self.contenders["ringside"] = Contender("ringside", ports["ag"], [a, b],
                                                    ["dapr-app-id: b"], path)
        else:
            self.contenders["ringside"] = Contender("ringside", ports["ah"], [a, b], [],
                                                    "/v1.0/invoke/b/method/echo")

    def callee_app_calls_per_shard(self) -> list:
        """B's ringside_app_calls_total per shard (index = shard): what each callee shard handed
        its app, HTTP CallLocal and proxied gRPC alike."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.b_metrics_port}/metrics", timeout=10) as r:
            return per_shard_values(r.read().decode(), "ringside_app_calls_total", self.callee_shards)

    def _haproxy_pair(self, name: str, app: int, mode: str, path: str) -> Contender:
        a_port, b_port = free_port(), free_port()
        pids = []
        for hop, listen, nxt in (("b", b_port, app), ("a", a_port, b_port)):
            cfg = os.path.join(self.work, f"{self.protocol}-{name}-{hop}.cfg")
            with open(cfg, "w") as f:
                f.write(haproxy_config(listen, nxt, mode))
            pids.append(self._spawn(f"{name}-{hop}", ["haproxy", "-db", "-f", cfg]))
        return Contender(name, a_port, pids[::-1], [], path)

    def _nginx_pair(self, app: int, mode: str, path: str) -> Contender:
        a_port, b_port = free_port(), free_port()
        pids = []
        for hop, listen, nxt in (("b", b_port, app), ("a", a_port, b_port)):
            name = f"{self.protocol}-nginx-{hop}"
            for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
                os.makedirs(os.path.join(self.work, f"{name}-temp", sub), exist_ok=True)
            cfg = os.path.join(self.work, f"{name}.conf")
            with open(cfg, "w") as f:
                f.write(nginx_config(self.work, name, listen, nxt, mode))
            pids.append(self._spawn(f"nginx-{hop}", ["nginx", "-p", self.work, "-e",
                                                     os.path.join(self.work, f"{name}.err"),
                                                     "-c", cfg]))
        return Contender("nginx", a_port, pids[::-1], [], path)

    def _answers(self, c: Contender) -> bool:
        if self.protocol == "grpc":
            argv = [os.path.join(self.bin, "ringside-grpc-load"), "--target", f"127.0.0.1:{c.port}",
                    "--mode", "unary", "-n", "1", "--timeout", "2"]
            if c.name == "ringside":
                argv += ["--app-id", "b"]
            return subprocess.run(argv, capture_output=True).returncode == 0
        body = b"ringside-compare"
        req = urllib.request.Request(f"http://127.0.0.1:{c.port}{c.path}", data=body, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=2) as resp:
                return resp.status == 200 and resp.read() == body
        except OSError:
            return False

    def _wait_ready(self, c: Contender) -> None:
        for _ in range(150):  # up to ~15 s: ringside's a learns b through the name-resolution file
            self._check_alive()
            if self._answers(c):
                return
            time.sleep(0.1)
        raise RuntimeError(f"the {self.protocol} {c.name} chain does not answer an echo on port "
                           f"{c.port}:\n{self._logs()}")
