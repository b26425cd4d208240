"""bench/compare's engine: runs every contender (direct, the two-relay floor, ringside, the
haproxy chain, the nginx chain) over HTTP and gRPC, at one outstanding request and at saturation,
in alternating rounds, and prints one table of medians (Markdown), optionally as JSON too.
Run it through `bash bench/compare` (which installs the tools and builds first); --help lists
the knobs."""

import argparse
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time

import load_drivers
import proc_stats
from report import render_table, render_targets, target_checks
from topology import CONTENDERS, Topology

MODES = ("one", "saturation")  # one outstanding request; C connections each with one


def parse_args(argv):
    p = argparse.ArgumentParser(prog="bench/compare", description=__doc__)
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    p.add_argument("--duration", type=int, default=3, help="seconds per run (default 3)")
    p.add_argument("--body-size", type=int, default=64, help="request body / gRPC payload bytes (64)")
    p.add_argument("--connections", type=int, default=32, help="connections at saturation (32)")
    p.add_argument("--threads", type=int, default=2, help="load generator threads at saturation (2)")
    p.add_argument("--bulk-mib", type=int, default=64,
                   help="HTTP: also echo one body of this many MiB through every chain, per round (64; 0: skip)")
    p.add_argument("--shards", type=int, default=1, help="shards per ringside sidecar (1)")
    p.add_argument("--callee-shards", type=int, default=0,
                   help="shards of ringside's callee sidecar B (default: --shards); with 2+ the table "
                        "shows how evenly B's shards shared the calls")
    p.add_argument("--protocols", default="http,grpc", help="comma-separated: http,grpc")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    p.add_argument("--bin", default=os.path.join(os.getcwd(), "build", "bin"),
                   help="ringside binaries (default build/bin)")
    p.add_argument("--quick", action="store_true",
                   help="1 round of 1 s runs, no warm-up: a smoke run (< 60 s), not a measurement")
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.duration = 1, 1
    args.callee_shards = args.callee_shards or args.shards
    for name in ("rounds", "duration", "body_size", "bulk_mib", "connections", "threads", "shards",
                 "callee_shards"):
        if getattr(args, name) < (0 if name in ("body_size", "bulk_mib") else 1):
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    args.protocols = [x for x in args.protocols.split(",") if x]
    for proto in args.protocols:
        if proto not in ("http", "grpc"):
            p.error(f"--protocols: unknown protocol {proto!r} (http, grpc)")
    return args


class Runner:
    """Drives one contender with the protocol's load generator."""

    def __init__(self, protocol: str, args, work: str):
        self.protocol, self.args, self.work = protocol, args, work
        if protocol == "http":
            self.script = os.path.join(work, "wrk-post.lua")
            load_drivers.write_wrk_script(self.script, args.body_size)
        else:
            self.body = os.path.join(work, "grpc-body.bin")
            with open(self.body, "wb") as f:
                f.write(load_drivers.grpc_echo_body(args.body_size))

    def run(self, c, mode: str, seconds: int) -> dict:
        conns, threads = (1, 1) if mode == "one" else (self.args.connections, self.args.threads)
        url = f"http://127.0.0.1:{c.port}{c.path}"
        if self.protocol == "http":
            return load_drivers.run_wrk(url, self.script, conns, threads, seconds)
        return load_drivers.run_h2load(url, self.body, conns, threads, seconds, c.headers,
                                       os.path.join(self.work, "h2load.log"))


def measure(runner: Runner, c, mode: str, seconds: int) -> dict:
    """One run with the proxies' CPU, context switches and RSS read around it."""
    before = proc_stats.Snapshot(c.proxy_pids)
    result = runner.run(c, mode, seconds)
    cpu, switches = before.delta(proc_stats.Snapshot(c.proxy_pids))
    n = max(result["requests"], 1)
    if c.proxy_pids:
        result["cpu_us_per_request"] = cpu / n * 1e6
        result["context_switches_per_request"] = switches / n
        result["rss_mib"] = sum(proc_stats.rss_mib(p) for p in c.proxy_pids)
    return result


def io_uring_pass(runner: Runner, c, seconds: int, work: str) -> dict:
    """ringside only, outside the timed rounds (perf's counting must not tax ringside's figures):
    SQEs, io_uring_enter calls and context switches per request, for each sidecar."""
    out = {}
    for mode in MODES:
        counters = [proc_stats.TracepointCounter(pid, os.path.join(work, f"perf-{pid}.txt"))
                    for pid in c.proxy_pids]
        before = {pid: proc_stats.context_switches(pid) for pid in c.proxy_pids}
        for counter in counters:
            counter.__enter__()
        time.sleep(0.3)  # perf attaches asynchronously
        try:
            result = runner.run(c, mode, seconds)
        finally:
            time.sleep(0.2)
            for counter in counters:
                counter.__exit__(None, None, None)
        n = max(result["requests"], 1)
        per_sidecar = {}
        for side, counter in zip(("a", "b"), counters):
            per_sidecar[side] = {
                "sqes_per_request": counter.counts.get(proc_stats.TRACEPOINTS[0], 0) / n,
                "enters_per_request": counter.counts.get(proc_stats.TRACEPOINTS[1], 0) / n,
                "context_switches_per_request":
                    (proc_stats.context_switches(counter.pid) - before[counter.pid]) / n,
            }
        out[mode] = per_sidecar
    return out


def bulk_pass(topo: Topology, args) -> dict:
    """Issue 11's 64 MiB target: one large body echoed through every chain, alternating, once per
    round (plus one unmeasured warm-up call each); MiB/s medians and each chain's ratio to direct."""
    body = os.urandom(args.bulk_mib << 20)
    # The echo app answers as it reads (full duplex, as a Go handler copying the body would).
    # A proxy that cannot relay that (nginx stops reading the answer until it has sent the
    # whole request, and both ends stall) is reported as failing, not waited on: a 64 MiB echo
    # takes seconds, so the warm-up gets 30 s. Direct and ringside must pass.
    # haproxy 2.6 was also seen to stall once in a few dozen such echoes, so a failure in a
    # measured round drops that proxy too rather than the whole comparison.
    failed = {}

    def echo(name: str, timeout: float):
        c = topo.contenders[name]
        try:
            return load_drivers.run_bulk_echo(c.port, c.path, body, 1, timeout=timeout)["mib_per_s"]
        except load_drivers.LoadError as e:
            if name in ("direct", "ringside"):
                raise
            failed[name] = str(e).splitlines()[0]
            print(f"  http: {args.bulk_mib} MiB echo through {name} failed: {failed[name]}", file=sys.stderr, flush=True)
            return None

    for name in CONTENDERS:
        echo(name, 30)
    runs = {name: [] for name in CONTENDERS if name not in failed}
    for r in range(args.rounds):
        for name in CONTENDERS:
            if name not in failed:
                rate = echo(name, 30)
                if rate is not None:
                    runs[name].append(rate)
    runs = {name: v for name, v in runs.items() if name not in failed}
    out = {"mib": args.bulk_mib,
           "mib_per_s": {name: statistics.median(v) for name, v in runs.items()}, "runs": runs,
           "failed": failed}
    print(f"  http: {args.bulk_mib} MiB echo done", file=sys.stderr, flush=True)
    return out


def medians(rounds: list) -> dict:
    keys = rounds[0].keys()
    return {k: statistics.median(r[k] for r in rounds) for k in keys}


def run_protocol(protocol: str, args, work: str) -> dict:
    topo = Topology(protocol, args.bin, work, args.shards, max_body_mib=2 * args.bulk_mib,
                    callee_shards=args.callee_shards)
    try:
        topo.start()
        runner = Runner(protocol, args, work)
        if not args.quick:  # warm every chain's connections and caches once
            for name in CONTENDERS:
                runner.run(topo.contenders[name], "saturation", 1)
        rounds = {name: {mode: [] for mode in MODES} for name in CONTENDERS}
        for r in range(args.rounds):
            for name in CONTENDERS:  # alternate contenders within each round
                for mode in MODES:
                    rounds[name][mode].append(measure(runner, topo.contenders[name], mode,
                                                      args.duration))
            print(f"  {protocol}: round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
        for name in CONTENDERS[1:]:  # added latency within each round: the rounds alternate,
            for mode in MODES:          # so a noisy moment of the machine mostly cancels out
                for mine, direct in zip(rounds[name][mode], rounds["direct"][mode]):
                    mine["added_p50_us"] = mine["p50_us"] - direct["p50_us"]
                    mine["added_p99_us"] = mine["p99_us"] - direct["p99_us"]
        result = {name: {mode: medians(rounds[name][mode]) for mode in MODES} for name in CONTENDERS}
        result["rounds"] = rounds
        if args.callee_shards >= 2:  # every call ringside forwarded so far, warm-up included
            calls = topo.callee_app_calls_per_shard()
            result["callee_shards"] = {"app_calls": calls,
                                       "busiest_over_quietest": max(calls) / min(calls) if min(calls) > 0 else None}
        if protocol == "http" and args.bulk_mib:
            result["bulk"] = bulk_pass(topo, args)
        why_not = proc_stats.ensure_tracefs()
        if why_not:
            result["ringside_io_uring"] = {"unavailable": why_not}
        else:
            result["ringside_io_uring"] = io_uring_pass(runner, topo.contenders["ringside"],
                                                        args.duration, work)
        return result
    finally:
        topo.stop()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # e.g. CI's timeout: stop our processes first
    for tool in ("wrk", "h2load", "haproxy", "nginx"):
        if not shutil.which(tool):
            print(f"bench/compare: {tool} is not installed (run bash bench/compare, which "
                  f"installs it)", file=sys.stderr)
            return 2
    work = tempfile.mkdtemp(prefix="ringside-compare-")
    started = time.time()
    ok = False
    try:
        results = {"settings": {k: getattr(args, k) for k in (
            "rounds", "duration", "body_size", "bulk_mib", "connections", "threads", "shards",
            "callee_shards", "quick")}}
        # Other work on the host skews every figure (most the latencies): say how busy it was.
        results["settings"]["loadavg_start"] = os.getloadavg()[0]
        for protocol in args.protocols:
            print(f"bench/compare: {protocol} ...", file=sys.stderr, flush=True)
            results[protocol] = run_protocol(protocol, args, work)
        results["settings"]["elapsed_seconds"] = round(time.time() - started, 1)
        results["settings"]["loadavg_end"] = os.getloadavg()[0]
        results["targets"] = [{"target": t, "measured": m, "met": met}
                              for t, m, met in target_checks(results)]
        if args.json:  # first: a closed stdout must not lose the results
            with open(args.json, "w") as f:
                json.dump(results, f, indent=2)
        print(render_table(results, args.protocols))
        print(render_targets(results))
        ok = True
        return 0
    except (RuntimeError, load_drivers.LoadError) as e:
        print(f"bench/compare: FAILED: {e}", file=sys.stderr)
        print(f"bench/compare: logs kept in {work}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: every process we started is stopped on the way
        print(f"bench/compare: interrupted; logs kept in {work}", file=sys.stderr)
        return 130
    finally:
        if ok:  # keep the logs of a failed run for the message above
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
