"""Folds `perf script` output into stacks ("root;caller;callee" -> samples), like stackcollapse-perf."""
import collections
import re

_OFFSET = re.compile(r'\+0x[0-9a-f]+$')


def _frame_name(line):
    """'\\t  55d0c1 ringside::shard::Loop::run+0x1c (/path/ringsided)' -> 'ringside::shard::Loop::run'."""
    parts = line.strip().split(None, 1)
    if len(parts) < 2:
        return '[unknown]'
    rest = parts[1]
    dso = ''
    if rest.endswith(')') and ' (' in rest:
        rest, dso = rest.rsplit(' (', 1)
        dso = dso[:-1]
    name = _OFFSET.sub('', rest.strip())
    if name in ('', '[unknown]'):
        base = dso.rsplit('/', 1)[-1]
        return f'[{base}]' if base and base not in ('unknown', '[unknown]') else '[unknown]'
    return name


def fold(perf_script_text):
    """Counter of folded stacks; the root frame is the thread name (each shard thread its own tower)."""
    stacks = collections.Counter()
    comm, frames = None, []

    def flush():
        if comm is not None:
            stacks[';'.join([comm] + frames[::-1])] += 1

    for line in perf_script_text.splitlines():
        if not line.strip():
            flush()
            comm, frames = None, []
        elif line[0] in ' \t':
            if comm is not None:
                frames.append(_frame_name(line).replace(';', ':'))
        else:
            flush()
            # header: "comm  pid/tid  time: period event:" -- comm may contain spaces; the pid column is numeric.
            cols = line.split()
            idx = next((i for i, c in enumerate(cols) if c.split('/')[0].isdigit()), 1)
            comm, frames = ' '.join(cols[:idx]) or '[unknown]', []
    flush()
    return stacks
