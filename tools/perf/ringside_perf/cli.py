"""Command line of ringside-perf: subcommands, their flags, and exit codes (2 = bad flags, 1 = failure)."""
import argparse
import http.client
import os
import sys

from . import cmd_callgrind, cmd_flame, cmd_stages, cmd_stat, cmd_tune_host, target
from .errors import ToolError, UsageError


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'{text!r} is not a number')
        if value <= 0:
            raise argparse.ArgumentTypeError(f'{text!r} must be > 0')
        return value
    return parse


def _port(text):
    value = _positive(int)(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f'{text!r} is not a TCP port')
    return value


def _add_target(p):
    p.add_argument('--pid', type=_positive(int), help='pid of the ringsided to profile')
    p.add_argument('--metrics-port', type=_port, help="the sidecar's --metrics-port (its pid is found via /proc)")


def parser(bin_dir):
    top = argparse.ArgumentParser(prog='ringside-perf', description='Profile a running ringsided in one command.')
    sub = top.add_subparsers(dest='command', required=True, metavar='{flame,stat,stages,callgrind,tune-host}')

    p = sub.add_parser('flame', help='perf record -g -> SVG flame graph + speedscope JSON')
    _add_target(p)
    p.add_argument('--seconds', type=_positive(float), default=10.0, help='recording time (default 10)')
    p.add_argument('--frequency', type=_positive(int), default=999, help='samples per second per CPU (default 999)')
    p.add_argument('--out', default='.', help='directory for flame.svg, flame.speedscope.json, flame.folded')
    p.add_argument('--top', type=_positive(int), default=15, help='hottest functions to print (default 15)')

    p = sub.add_parser('stat', help='CPU, io_uring SQEs/enters/CQEs, context switches per forwarded request')
    _add_target(p)
    p.add_argument('--seconds', type=_positive(float), default=10.0, help='measurement window (default 10)')

    p = sub.add_parser('stages', help='per-stage latency from ringside_stage_latency_seconds')
    _add_target(p)
    p.add_argument('--seconds', type=float, default=0.0, help='window for deltas; 0 = since sidecar start (default)')
    p.add_argument('--metrics-file', help='read a saved /metrics text instead of a running sidecar')

    p = sub.add_parser('callgrind', help='instructions per forwarded request (starts its own sidecars)')
    p.add_argument('--requests', type=_positive(int), default=2000, help='measured requests (default 2000)')
    p.add_argument('--baseline-requests', type=_positive(int), default=100, help='requests of the baseline run (default 100)')
    p.add_argument('--body-size', type=int, default=64, help='request body bytes (default 64)')
    p.add_argument('--protocol', choices=('http', 'grpc'), default='http',
                   help='http: HTTP invoke to the HTTP echo app (default); grpc: proxied gRPC unary to the gRPC echo app')
    p.add_argument('--bin', default=bin_dir, help=f'directory of ringsided and the echo apps and load tools (default {bin_dir})')
    p.add_argument('--out', help='directory for callgrind files and logs (default a new temp dir)')
    p.add_argument('--startup-timeout', type=_positive(float), default=120.0, help='seconds to wait for the first 200 (default 120)')

    p = sub.add_parser('tune-host', help='show (and with --apply set) IRQ affinity, governor, limits, --cpus advice')
    p.add_argument('--apply', nargs='?', const='all', type=_apply_parts, metavar='WHAT',
                   help='change the settings: all (default), or a comma list of irqs, governor, limits')
    p.add_argument('--pid', type=_positive(int), help='a running ringsided whose limits to show (and raise with --apply)')
    p.add_argument('--top', type=_positive(int), default=10, help='IRQs to list (default 10)')
    return top


_APPLY_PARTS = ('irqs', 'governor', 'limits')


def _apply_parts(text):
    parts = set(_APPLY_PARTS) if text == 'all' else set(filter(None, text.split(',')))
    unknown = parts - set(_APPLY_PARTS)
    if not parts or unknown:
        raise argparse.ArgumentTypeError(f"'{text}': want all or a comma list of {', '.join(_APPLY_PARTS)}")
    return parts


def main(argv=None, bin_dir=None):
    bin_dir = bin_dir or os.path.dirname(os.path.abspath(sys.argv[0]))
    args = parser(bin_dir).parse_args(argv)
    try:
        if args.command == 'flame':
            return cmd_flame.run(target.resolve(args, need_metrics=False))
        if args.command == 'stat':
            return cmd_stat.run(target.resolve(args, need_metrics=True))
        if args.command == 'stages':
            if args.metrics_file:
                if args.pid or args.metrics_port:
                    raise UsageError('--metrics-file reads a saved file: drop --pid/--metrics-port')
                if not os.path.isfile(args.metrics_file):
                    raise UsageError(f'--metrics-file {args.metrics_file}: no such file')
                return cmd_stages.run(args)
            if args.seconds < 0:
                raise UsageError('--seconds must be >= 0')
            return cmd_stages.run(target.resolve(args, need_metrics=True))
        if args.command == 'callgrind':
            if args.body_size < 0:
                raise UsageError('--body-size must be >= 0')
            return cmd_callgrind.run(args)
        if args.command == 'tune-host':
            if args.pid and not os.path.exists(f'/proc/{args.pid}'):
                raise UsageError(f'--pid {args.pid}: no such process')
            return cmd_tune_host.run(args)
    except UsageError as e:
        print(f'ringside-perf {args.command}: {e}', file=sys.stderr)
        return 2
    except (ToolError, OSError, http.client.HTTPException) as e:
        print(f'ringside-perf {args.command}: {e}', file=sys.stderr)
        return 1
    return 2
