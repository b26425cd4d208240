"""`ringside-perf stages`: per-stage latency breakdown from ringside_stage_latency_seconds (common11 contract)."""
import collections
import math
import time

from . import prom
from .errors import ToolError

METRIC = 'ringside_stage_latency_seconds'
STAGES = ('ingress_parse', 'resolve_pick', 'pool_wait', 'peer_round_trip', 'app_round_trip', 'response_write')


def histograms(samples):
    """{stage: {'buckets': {le: cumulative}, 'sum': s, 'count': n}} summed over shards."""
    out = collections.defaultdict(lambda: {'buckets': collections.Counter(), 'sum': 0.0, 'count': 0.0})
    for name, labels, value in samples:
        stage = labels.get('stage')
        if stage is None:
            continue
        if name == METRIC + '_bucket':
            le = labels.get('le', '+Inf')
            try:
                bound = math.inf if le == '+Inf' else float(le)
            except ValueError:
                continue  # not a bucket bound: not ours to read
            out[stage]['buckets'][bound] += value
        elif name == METRIC + '_sum':
            out[stage]['sum'] += value
        elif name == METRIC + '_count':
            out[stage]['count'] += value
    return out


def subtract(after, before):
    """Histogram deltas over a window (counters only grow)."""
    out = {}
    for stage, h in after.items():
        b = before.get(stage, {'buckets': {}, 'sum': 0.0, 'count': 0.0})
        out[stage] = {'buckets': {le: n - b['buckets'].get(le, 0) for le, n in h['buckets'].items()},
                      'sum': h['sum'] - b['sum'], 'count': h['count'] - b['count']}
    return out


def quantile(h, q):
    """Upper bound of the bucket holding the q-quantile (what a bucketed histogram can tell)."""
    if h['count'] <= 0:
        return None
    rank = q * h['count']
    for le in sorted(h['buckets']):
        if h['buckets'][le] >= rank:
            return le
    return math.inf


def _fmt_seconds(s):
    if s is None:
        return '-'
    if s == math.inf:
        return '>1s'
    return f'{s * 1e6:.1f}us' if s < 1e-3 else f'{s * 1e3:.2f}ms'


def report(hists, header):
    """Table text: one row per stage in request order, with count, mean, p50, p99 and share of time."""
    missing = [s for s in STAGES if s not in hists]
    if len(missing) == len(STAGES):
        raise ToolError(f'/metrics has no {METRIC}: this ringsided does not record stages yet')
    total_time = sum(hists[s]['sum'] for s in STAGES if s in hists) or 1.0
    lines = [header, f'{"stage":<18}{"count":>10}{"mean":>11}{"p50<=":>11}{"p99<=":>11}{"time share":>12}']
    for stage in STAGES:
        h = hists.get(stage)
        if h is None:
            lines.append(f'{stage:<18}{"(absent)":>10}')
            continue
        mean = h['sum'] / h['count'] if h['count'] > 0 else None
        lines.append(f'{stage:<18}{int(h["count"]):>10}{_fmt_seconds(mean):>11}{_fmt_seconds(quantile(h, 0.5)):>11}'
                     f'{_fmt_seconds(quantile(h, 0.99)):>11}{100.0 * h["sum"] / total_time:>11.1f}%')
    lines.append('p50/p99 are bucket upper bounds; app_round_trip is the callee side, peer_round_trip includes it.')
    return '\n'.join(lines)


def run(args):
    if args.metrics_file:
        with open(args.metrics_file) as f:
            hists = histograms(prom.parse(f.read()))
        print(report(hists, f'stages from {args.metrics_file} (since sidecar start)'))
        return 0
    before = histograms(prom.parse(prom.fetch(args.metrics_port)))
    if args.seconds > 0:
        time.sleep(args.seconds)
        hists = subtract(histograms(prom.parse(prom.fetch(args.metrics_port))), before)
        header = f'stages of ringsided pid {args.pid} (metrics port {args.metrics_port}) over {args.seconds}s'
    else:
        hists = before
        header = f'stages of ringsided pid {args.pid} (metrics port {args.metrics_port}) since start'
    print(report(hists, header))
    return 0
