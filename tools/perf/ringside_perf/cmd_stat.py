"""`ringside-perf stat`: CPU, io_uring SQEs/enters/CQEs and context switches per forwarded request."""
import collections
import os
import re
import tempfile

from . import proc, prom
from .errors import ToolError

_REQUEST_COUNTERS = ('ringside_invoke_requests_total', 'ringside_calllocal_served_total')
_OPCODE = re.compile(r'opcode\s+([A-Z_0-9]+)')


def _cpu_ticks(pid):
    """(utime, stime) of the whole process in clock ticks (fields 14 and 15 of /proc/pid/stat)."""
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return int(fields[11]), int(fields[12])


def _context_switches(pid):
    """Voluntary + involuntary switches summed over the process's threads."""
    total = 0
    for tid in os.listdir(f'/proc/{pid}/task'):
        try:
            with open(f'/proc/{pid}/task/{tid}/status') as f:
                for line in f:
                    if line.startswith(('voluntary_ctxt_switches', 'nonvoluntary_ctxt_switches')):
                        total += int(line.split()[1])
        except OSError:
            pass  # thread ended meanwhile
    return total


def _requests(port):
    samples = prom.parse(prom.fetch(port))
    return {name: prom.total(samples, name) for name in _REQUEST_COUNTERS}


def run(args):
    perf = proc.need('perf')
    proc.ensure_tracefs()
    hz = os.sysconf('SC_CLK_TCK')
    with tempfile.TemporaryDirectory(prefix='ringside-perf-') as tmp:
        data = os.path.join(tmp, 'perf.data')
        req0, cpu0, cs0 = _requests(args.metrics_port), _cpu_ticks(args.pid), _context_switches(args.pid)
        proc.run([perf, 'record', '-o', data, '-p', str(args.pid),
                  '-e', 'io_uring:io_uring_submit_req', '-e', 'io_uring:io_uring_complete',
                  '-e', 'syscalls:sys_enter_io_uring_enter', '--', 'sleep', str(args.seconds)], 'perf record (io_uring tracepoints)')
        req1, cpu1, cs1 = _requests(args.metrics_port), _cpu_ticks(args.pid), _context_switches(args.pid)
        text, _ = proc.run([perf, 'script', '-i', data, '-F', 'event,trace'], 'perf script')
    events = collections.Counter()
    opcodes = collections.Counter()
    for line in text.splitlines():
        if 'io_uring_submit_req' in line:
            events['sqe'] += 1
            m = _OPCODE.search(line)
            opcodes[m.group(1) if m else '?'] += 1
        elif 'io_uring_complete' in line:
            events['cqe'] += 1
        elif 'sys_enter_io_uring_enter' in line:
            events['enter'] += 1
    deltas = {k: req1[k] - req0[k] for k in req1}
    # A caller sidecar counts invocations; a callee counts CallLocal served; a sidecar that is both counts both.
    requests = sum(deltas.values())
    if requests <= 0:
        raise ToolError(f'--metrics-port {args.metrics_port}: no requests forwarded in {args.seconds}s; run load while measuring')
    user = (cpu1[0] - cpu0[0]) / hz
    kernel = (cpu1[1] - cpu0[1]) / hz
    print(f'ringsided pid {args.pid}, {args.seconds}s window, {int(requests)} requests '
          f'({", ".join(f"{k} +{int(v)}" for k, v in deltas.items())}), {requests / args.seconds:.0f} req/s')
    print('per request:')
    print(f'  cpu user              {1e6 * user / requests:10.2f} us')
    print(f'  cpu kernel            {1e6 * kernel / requests:10.2f} us')
    print(f'  io_uring SQEs         {events["sqe"] / requests:10.3f}')
    for op, n in opcodes.most_common():
        print(f'    {op:<20}{n / requests:10.3f}')
    print(f'  io_uring_enter calls  {events["enter"] / requests:10.3f}')
    print(f'  CQEs                  {events["cqe"] / requests:10.3f}')
    print(f'  context switches      {(cs1 - cs0) / requests:10.3f}')
    print('(SQEs submitted by SQPOLL kernel threads are not attributed to the pid; with --sqpoll, SQEs read 0.)')
    return 0
