"""`ringside-perf flame`: sampled CPU profile of the sidecar as an SVG flame graph and speedscope JSON."""
import os
import tempfile

from . import flamegraph_svg, folding, proc, speedscope
from .errors import ToolError


def run(args):
    perf = proc.need('perf')
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix='ringside-perf-') as tmp:
        data = os.path.join(tmp, 'perf.data')
        proc.run([perf, 'record', '-e', 'cpu-clock', '-F', str(args.frequency), '-g', '-p', str(args.pid),
                  '-o', data, '--', 'sleep', str(args.seconds)], 'perf record')
        text, _ = proc.run([perf, 'script', '-i', data], 'perf script')
    stacks = folding.fold(text)
    if not stacks:
        raise ToolError(f'--pid {args.pid}: perf recorded no samples in {args.seconds}s (idle process?)')
    title = f'ringsided pid {args.pid}: cpu-clock, {sum(stacks.values())} samples over {args.seconds}s'
    svg_path = os.path.join(args.out, 'flame.svg')
    json_path = os.path.join(args.out, 'flame.speedscope.json')
    folded_path = os.path.join(args.out, 'flame.folded')
    with open(svg_path, 'w') as f:
        f.write(flamegraph_svg.render(stacks, title))
    with open(json_path, 'w') as f:
        f.write(speedscope.render(stacks, title))
    with open(folded_path, 'w') as f:
        f.writelines(f'{s} {n}\n' for s, n in stacks.most_common())
    print(title)
    print(f'flame graph   {svg_path}')
    print(f'speedscope    {json_path}  (open at https://www.speedscope.app)')
    print(f'folded stacks {folded_path}')
    print('hottest leaf functions (self samples):')
    leaves = {}
    for s, n in stacks.items():
        leaf = s.rsplit(';', 1)[-1]
        leaves[leaf] = leaves.get(leaf, 0) + n
    total = sum(stacks.values())
    for leaf, n in sorted(leaves.items(), key=lambda kv: -kv[1])[:args.top]:
        print(f'  {100.0 * n / total:6.2f}%  {leaf}')
    return 0
