"""`ringside-perf callgrind`: instructions per forwarded request, caller and callee sidecar, under callgrind.

Starts an echo app, sidecar b (in front of the app) and sidecar a, both sidecars with one shard under
valgrind --tool=callgrind, and drives requests a -> b -> app: with --protocol http (default),
ringside-load posts to /v1.0/invoke/b/method/echo on a and b's app is the HTTP echo app; with
--protocol grpc, ringside-grpc-load makes proxied unary calls (dapr-app-id: b) on a's gRPC port and
b's app is the gRPC echo app (--app-protocol grpc). Startup and warm-up cost is removed by
difference: run R1 with --baseline-requests, run R2 with baseline + --requests; instructions per
request = (Ir(R2) - Ir(R1)) / --requests. The count is deterministic up to timers.
"""
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request

from . import ports, proc
from .errors import ToolError

_TOTALS = re.compile(r'^(?:totals|summary):\s+(\d+)', re.M)


def _wait_ok(url, seconds):
    """Polls url until it answers 200 (the first call also makes a look up b); bounded in time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            req = urllib.request.Request(url, data=b'warm', method='POST')
            with urllib.request.urlopen(req, timeout=10) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise ToolError(f'no 200 from {url} within {seconds}s under valgrind (see the logs in --out)')


def _instructions(out_file):
    """Ir of all threads of one callgrind run (one file per thread with --separate-threads=no)."""
    total = 0
    for path in [out_file] + [p for p in _siblings(out_file)]:
        with open(path) as f:
            m = _TOTALS.search(f.read())
        if m:
            total += int(m.group(1))
    return total


def _siblings(out_file):
    d, base = os.path.split(out_file)
    return [os.path.join(d, n) for n in os.listdir(d) if n.startswith(base + '.') or n.startswith(base + '-')]


class _Poker:
    """Sends /v1.0/healthz to the sidecars every 20 ms while active (warm-up and shutdown only, so the
    measured load is not mixed with it). See _stop for why valgrind needs this."""

    def __init__(self, http_ports):
        self.ports = http_ports         # the sidecars' --dapr-http-port
        self.active = threading.Event()  # poke only while set
        self.done = threading.Event()    # ends the thread
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.done.is_set():
            if self.active.wait(0.1):
                for port in self.ports:
                    try:
                        urllib.request.urlopen(f'http://127.0.0.1:{port}/v1.0/healthz', timeout=0.5).close()
                    except (OSError, ValueError):
                        pass
                time.sleep(0.02)


def _stop(procs):
    """SIGTERM everything, then keep poking the sidecars' HTTP ports until they exit (bounded).

    Under valgrind 3.19 a shard blocked in io_uring_enter keeps valgrind's one big lock (the syscall
    is not treated as blocking), so no other thread of ringsided -- the one that handles SIGTERM, the
    metrics server -- runs until the shard wakes. A request wakes the shard and lets the others run.
    """
    for p in reversed(procs):
        p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(p.poll() is None for p in procs):
        time.sleep(0.1)  # the poker (active again) wakes the shards
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def _load_argv(args, bin_dir, a_http, a_grpc, requests):
    """The measured load: `requests` calls, one at a time, through sidecar a to app b."""
    if args.protocol == 'grpc':
        return [os.path.join(bin_dir, 'ringside-grpc-load'), '--target', f'127.0.0.1:{a_grpc}', '--mode', 'unary',
                '--app-id', 'b', '-n', str(requests), '-c', '1', '--body-size', str(args.body_size),
                '--timeout', '600']
    return [os.path.join(bin_dir, 'ringside-load'), '--url', f'http://127.0.0.1:{a_http}/v1.0/invoke/b/method/echo',
            '-n', str(requests), '-c', '1', '--body-size', str(args.body_size), '--method', 'POST', '--timeout', '600']


def _one_run(args, bin_dir, work, requests, tag):
    """Ir of sidecar a and b for one topology that served `requests` timed requests after warm-up."""
    valgrind = proc.need('valgrind')
    app, ah, ag, bh, bg = (ports.pick() for _ in range(5))
    env = dict(os.environ, RINGSIDE_NR_SQLITE=os.path.join(work, f'nr-{tag}.db'))
    procs = []

    def spawn(argv, log):
        procs.append(subprocess.Popen(argv, env=env, stdout=open(os.path.join(work, log), 'w'),
                                      stderr=subprocess.STDOUT, start_new_session=True))

    cg = lambda side: os.path.join(work, f'callgrind.{side}.{tag}.out')
    vg = lambda side: [valgrind, '--tool=callgrind', f'--callgrind-out-file={cg(side)}']
    poker = _Poker([ah, bh])
    try:
        grpc = args.protocol == 'grpc'
        app_bin = 'ringside-grpc-echo-app' if grpc else 'ringside-echo-app'
        spawn([os.path.join(bin_dir, app_bin), '--port', str(app)], f'app.{tag}.log')
        spawn(vg('b') + [os.path.join(bin_dir, 'ringsided'), '--app-id', 'b', '--app-port', str(app),
                         '--app-protocol', 'grpc' if grpc else 'http',
                         '--dapr-http-port', str(bh), '--dapr-grpc-port', str(bg), '--enable-metrics=false',
                         '--shards', '1'], f'b.{tag}.log')
        spawn(vg('a') + [os.path.join(bin_dir, 'ringsided'), '--app-id', 'a', '--dapr-http-port', str(ah),
                         '--dapr-grpc-port', str(ag), '--enable-metrics=false', '--shards', '1'], f'a.{tag}.log')
        # Warm-up over HTTP either way: it makes a look b up and dial it (an HTTP invoke reaches a
        # gRPC app through its AppCallback service); the proxied gRPC path's own first-call costs are
        # in the baseline run too, so they cancel.
        url = f'http://127.0.0.1:{ah}/v1.0/invoke/b/method/echo'
        poker.active.set()
        _wait_ok(url, args.startup_timeout)
        poker.active.clear()
        time.sleep(0.5)  # let the last pokes finish before the measured load
        if requests > 0:
            load = subprocess.run(_load_argv(args, bin_dir, ah, ag, requests),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            with open(os.path.join(work, f'load.{tag}.txt'), 'w') as f:
                f.write(load.stdout)
            if load.returncode != 0:
                raise ToolError(f'the load through the sidecars under callgrind failed: {load.stdout.strip()[-400:]}')
    finally:
        poker.active.set()
        _stop(procs)
        poker.done.set()
    for side in ('a', 'b'):
        if not os.path.exists(cg(side)):
            raise ToolError(f'callgrind wrote no {cg(side)} (sidecar {side} did not exit cleanly; see {work})')
    return _instructions(cg('a')), _instructions(cg('b'))


def run(args):
    bin_dir = args.bin
    needed = ('ringsided', 'ringside-grpc-echo-app', 'ringside-grpc-load') if args.protocol == 'grpc' else \
        ('ringsided', 'ringside-echo-app', 'ringside-load')
    for tool in needed:
        if not os.access(os.path.join(bin_dir, tool), os.X_OK):
            raise ToolError(f'--bin {bin_dir}: no executable {tool} (build it first)')
    work = args.out or tempfile.mkdtemp(prefix='ringside-callgrind-')
    os.makedirs(work, exist_ok=True)
    base = args.baseline_requests
    a1, b1 = _one_run(args, bin_dir, work, base, 'baseline')
    a2, b2 = _one_run(args, bin_dir, work, base + args.requests, 'measured')
    n = args.requests
    what = 'proxied gRPC unary (dapr-app-id), gRPC echo app' if args.protocol == 'grpc' else 'HTTP invoke, HTTP echo app'
    print(f'callgrind, 1 shard per sidecar, a -> b -> echo app, {what}, body {args.body_size} B, '
          f'{n} requests (difference of a run with {base + n} and a run with {base} after warm-up)')
    print(f'  caller sidecar a  {(a2 - a1) / n:12.0f} instructions/request   (Ir {a1} -> {a2})')
    print(f'  callee sidecar b  {(b2 - b1) / n:12.0f} instructions/request   (Ir {b1} -> {b2})')
    print(f'  both              {(a2 - a1 + b2 - b1) / n:12.0f} instructions/request')
    print(f'callgrind files in {work} (callgrind_annotate <file>)')
    if (a2 - a1) <= 0 or (b2 - b1) <= 0:
        raise ToolError('the longer run did not cost more instructions: the measurement is broken')
    return 0
