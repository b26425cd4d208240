#!/usr/bin/env python3
"""e2e test of ringside-perf: every subcommand once against real sidecars (a -> b -> echo app) under
light load, asserting on what a user sees (well-formed files and figures > 0), plus bad flags -> exit 2.
No timing assertions. Fails loudly (exit 1) when it cannot set up what it needs."""
import argparse
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from ringside_perf import ports  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'testdata', 'stage_metrics.prom')
STAGES = ('ingress_parse', 'resolve_pick', 'pool_wait', 'peer_round_trip', 'app_round_trip', 'response_write')
failures = []


def check(cond, what):
    print(('ok   ' if cond else 'FAIL ') + what, flush=True)
    if not cond:
        failures.append(what)


def perf_tool(bin_dir, *argv, timeout=240):
    p = subprocess.run([os.path.join(bin_dir, 'ringside-perf'), *argv], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=timeout)
    print(f'$ ringside-perf {" ".join(argv)}  -> exit {p.returncode}\n{p.stdout}{p.stderr}', flush=True)
    return p


def wait_ok(url, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=b'x', method='POST'), timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bin', required=True)
    bin_dir = ap.parse_args().bin
    work = tempfile.mkdtemp(prefix='ringside-perf-test-')
    app, ah, ag, am, bh, bg, bm = (ports.pick() for _ in range(7))
    env = dict(os.environ, RINGSIDE_NR_SQLITE=os.path.join(work, 'nr.db'))
    procs = []

    def spawn(argv, log):
        p = subprocess.Popen(argv, env=env, stdout=open(os.path.join(work, log), 'w'), stderr=subprocess.STDOUT)
        procs.append(p)
        return p

    try:
        spawn([f'{bin_dir}/ringside-echo-app', '--port', str(app)], 'app.log')
        spawn([f'{bin_dir}/ringsided', '--app-id', 'b', '--app-port', str(app), '--dapr-http-port', str(bh),
               '--dapr-grpc-port', str(bg), '--metrics-port', str(bm), '--shards', '1'], 'b.log')
        a = spawn([f'{bin_dir}/ringsided', '--app-id', 'a', '--dapr-http-port', str(ah), '--dapr-grpc-port', str(ag),
                   '--metrics-port', str(am), '--shards', '1'], 'a.log')
        url = f'http://127.0.0.1:{ah}/v1.0/invoke/b/method/echo'
        if not wait_ok(url):
            print(f'FAIL: a -> b -> app never answered 200 (logs in {work})')
            return 1
        # Light load for the whole test: one connection, bounded count and time.
        spawn([f'{bin_dir}/ringside-load', '--url', url, '-n', '2000000', '-c', '2', '--method', 'POST',
               '--body-size', '64', '--timeout', '200'], 'load.log')

        # flame, by port (pid found via /proc)
        out = os.path.join(work, 'flame')
        p = perf_tool(bin_dir, 'flame', '--metrics-port', str(am), '--seconds', '2', '--out', out)
        check(p.returncode == 0, 'flame exits 0')
        if p.returncode == 0:
            svg = ET.parse(os.path.join(out, 'flame.svg')).getroot()
            titles = [t.text or '' for t in svg.iter('{http://www.w3.org/2000/svg}title')]
            check(any('ringside::' in t for t in titles), 'flame.svg parses as XML with frames named after ringside:: functions')
            doc = json.load(open(os.path.join(out, 'flame.speedscope.json')))
            prof = doc['profiles'][0]
            check(prof['type'] == 'sampled' and len(prof['samples']) == len(prof['weights']) > 0
                  and all(0 <= i < len(doc['shared']['frames']) for s in prof['samples'] for i in s),
                  'speedscope JSON loads: sampled profile, frame indices valid')
            check(str(a.pid) in p.stdout, 'flame found the pid of --metrics-port')

        # stat, by pid (metrics port found from the pid's sockets)
        p = perf_tool(bin_dir, 'stat', '--pid', str(a.pid), '--seconds', '2')
        check(p.returncode == 0, 'stat exits 0')
        figures = dict(re.findall(r'^\s+(cpu user|cpu kernel|io_uring SQEs|io_uring_enter calls|CQEs)\s+([0-9.]+)', p.stdout, re.M))
        check(len(figures) == 5, 'stat prints cpu user/kernel, SQEs, io_uring_enter calls, CQEs per request')
        check(all(float(v) > 0 for k, v in figures.items() if k != 'cpu kernel') and
              float(figures.get('cpu user', 0)) + float(figures.get('cpu kernel', 0)) > 0,
              'stat per-request figures > 0')

        # stages: the recorded fixture always; the real sidecar once it exports the histogram
        p = perf_tool(bin_dir, 'stages', '--metrics-file', FIXTURE)
        check(p.returncode == 0 and all(re.search(rf'^{s}\s+\d+', p.stdout, re.M) for s in STAGES),
              'stages lists all six stages from the recorded /metrics fixture')
        real = urllib.request.urlopen(f'http://127.0.0.1:{am}/metrics', timeout=5).read().decode()
        p = perf_tool(bin_dir, 'stages', '--metrics-port', str(am), '--seconds', '1')
        if 'ringside_stage_latency_seconds' in real:
            check(p.returncode == 0 and all(re.search(rf'^{s}\s+\d+', p.stdout, re.M) for s in STAGES),
                  'stages lists all six stages from the running sidecar')
        else:
            check(p.returncode == 1 and 'ringside_stage_latency_seconds' in p.stderr,
                  'stages on a sidecar without the histogram exits 1 naming the metric')

        # tune-host: shows, changes nothing
        gov = '/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor'
        before = open(gov).read() if os.path.exists(gov) else None
        p = perf_tool(bin_dir, 'tune-host', '--pid', str(a.pid))
        check(p.returncode == 0 and '--cpus' in p.stdout and 'nothing changed' in p.stdout, 'tune-host prints --cpus advice and changes nothing')
        check(before == (open(gov).read() if os.path.exists(gov) else None), 'tune-host without --apply left the governor alone')

        # tune-host --apply limits: a sidecar whose soft memlock limit is low gets it raised (to
        # unlimited with CAP_SYS_RESOURCE, else to its hard limit); IRQs and governor untouched
        soft, hard = resource.prlimit(a.pid, resource.RLIMIT_MEMLOCK)
        resource.prlimit(a.pid, resource.RLIMIT_MEMLOCK, (min(65536, hard), hard))
        p = perf_tool(bin_dir, 'tune-host', '--apply', 'limits', '--pid', str(a.pid))
        soft_after, hard_after = resource.prlimit(a.pid, resource.RLIMIT_MEMLOCK)
        check(p.returncode == 0 and f'pid {a.pid}: memlock' in p.stdout and 'irq_affinity' not in p.stdout
              and 'smp_affinity' not in p.stdout, 'tune-host --apply limits reports the memlock change and nothing else')
        check(soft_after == hard_after and soft_after >= hard, f'--apply limits raised the soft memlock limit ({soft_after}, hard {hard_after})')
        p = perf_tool(bin_dir, 'tune-host', '--apply', 'irqs,bogus')
        check(p.returncode == 2 and '--apply' in p.stderr, 'tune-host --apply irqs,bogus exits 2 naming --apply')

        # bad flags: exit 2 naming the problem
        p = perf_tool(bin_dir, 'stat', '--seconds', '2')
        check(p.returncode == 2 and '--pid' in p.stderr, 'stat without a target exits 2 naming --pid/--metrics-port')
        p = perf_tool(bin_dir, 'flame', '--pid', '1', '--seconds', '-3')
        check(p.returncode == 2 and '--seconds' in p.stderr, 'flame --seconds -3 exits 2 naming --seconds')
        p = perf_tool(bin_dir, 'stages', '--metrics-port', '70000')
        check(p.returncode == 2 and '--metrics-port' in p.stderr, 'stages --metrics-port 70000 exits 2 naming it')
        p = perf_tool(bin_dir, 'frobnicate')
        check(p.returncode == 2, 'an unknown subcommand exits 2')
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    # callgrind starts its own sidecars under valgrind (a small, fixed workload)
    p = perf_tool(bin_dir, 'callgrind', '--baseline-requests', '20', '--requests', '200', '--out', os.path.join(work, 'cg'),
                  timeout=280)
    m = re.search(r'both\s+(\d+) instructions/request', p.stdout)
    check(p.returncode == 0 and m is not None and int(m.group(1)) > 0, 'callgrind prints instructions per request > 0')
    # and over the proxied gRPC path (gRPC echo app behind b)
    p = perf_tool(bin_dir, 'callgrind', '--protocol', 'grpc', '--baseline-requests', '20', '--requests', '100',
                  '--out', os.path.join(work, 'cg-grpc'), timeout=280)
    m = re.search(r'both\s+(\d+) instructions/request', p.stdout)
    check(p.returncode == 0 and 'proxied gRPC' in p.stdout and m is not None and int(m.group(1)) > 0,
          'callgrind --protocol grpc prints instructions per proxied gRPC call > 0')

    print(f'{len(failures)} failure(s); work dir {work}')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
