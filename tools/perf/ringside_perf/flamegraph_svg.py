"""Self-contained SVG flame graph from folded stacks (no FlameGraph scripts, no JavaScript needed)."""
import hashlib
from xml.sax.saxutils import escape

_WIDTH = 1200        # px of the whole image
_FRAME_HEIGHT = 16   # px per stack level
_PAD = 10            # px margin
_MIN_WIDTH = 0.1     # px: narrower frames are left out (they could not be seen anyway)


class _Node:
    __slots__ = ('name', 'count', 'children')

    def __init__(self, name):
        self.name = name          # function (or thread name at the root level)
        self.count = 0            # samples in this frame and below
        self.children = {}        # name -> _Node


def _tree(stacks):
    root = _Node('all')
    for stack, n in stacks.items():
        root.count += n
        node = root
        for frame in stack.split(';'):
            node = node.children.setdefault(frame, _Node(frame))
            node.count += n
    return root


def _colour(name):
    """Warm colours, stable per name so two graphs of the same code look alike."""
    h = hashlib.md5(name.encode()).digest()
    return f'rgb({205 + h[0] % 50},{h[1] % 180 + 40},{h[2] % 55})'


def _depth(node):
    return 1 + max((_depth(c) for c in node.children.values()), default=0)


def render(stacks, title):
    """SVG text; the root ("all") at the bottom, callees above their callers, width = share of samples."""
    root = _tree(stacks)
    total = max(root.count, 1)
    levels = _depth(root)
    height = levels * _FRAME_HEIGHT + 3 * _PAD + 20
    scale = (_WIDTH - 2 * _PAD) / total
    out = [
        '<?xml version="1.0" standalone="no"?>',
        f'<svg version="1.1" width="{_WIDTH}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        '<style>text { font-family: monospace; font-size: 11px; } rect { stroke: white; stroke-width: 0.5; }</style>',
        f'<rect x="0" y="0" width="{_WIDTH}" height="{height}" fill="rgb(248,248,248)"/>',
        f'<text x="{_WIDTH // 2}" y="{_PAD + 12}" text-anchor="middle" font-size="14">{escape(title)}</text>',
    ]

    def emit(node, x, level):
        w = node.count * scale
        if w < _MIN_WIDTH:
            return
        y = height - _PAD - (level + 1) * _FRAME_HEIGHT
        pct = 100.0 * node.count / total
        label = escape(f'{node.name} ({node.count} samples, {pct:.2f}%)')
        out.append(f'<g><title>{label}</title>'
                   f'<rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{_FRAME_HEIGHT - 1}" fill="{_colour(node.name)}"/>')
        chars = int(w / 7)  # ~7 px per monospace character at 11px
        if chars >= 3:
            text = node.name if len(node.name) <= chars else node.name[:chars - 2] + '..'
            out.append(f'<text x="{x + 3:.2f}" y="{y + 11}">{escape(text)}</text>')
        out.append('</g>')
        for child in sorted(node.children.values(), key=lambda c: c.name):
            emit(child, x, level + 1)
            x += child.count * scale

    emit(root, _PAD, 0)
    out.append('</svg>')
    return '\n'.join(out) + '\n'
