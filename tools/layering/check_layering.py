#!/usr/bin/env python3
"""Fails when source folders include each other in a cycle.

Every folder under the given roots that holds .h/.cc files is a node; `#include "a/b/c.h"` in a
file of folder F adds the edge F -> a/b. A cycle (F includes G, G includes F, directly or through
others) means the two cannot be read, built or tested apart, so the layering test fails and names
the folders and the include lines that close the cycle.

Usage: check_layering.py <source root> [--print] [top folders...]   (default: dataplane controlplane)
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def folder_graph(root, tops):
    edges = {}  # folder -> {folder: first "file:line: include" seen}
    for top in tops:
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in files:
                if not name.endswith((".h", ".cc")):
                    continue
                path = os.path.join(dirpath, name)
                src = os.path.relpath(dirpath, root)
                edges.setdefault(src, {})
                with open(path, encoding="utf-8", errors="replace") as f:
                    for n, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        dst = os.path.dirname(m.group(1))
                        if not dst or dst == src or not os.path.isdir(os.path.join(root, dst)):
                            continue
                        if not any(dst == t or dst.startswith(t + "/") for t in tops):
                            continue
                        edges[src].setdefault(dst, f"{os.path.relpath(path, root)}:{n}: {line.strip()}")
    return edges


def cycles(edges):
    """Strongly connected components with more than one folder (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = argv[1]
    rest = argv[2:]
    show = "--print" in rest
    tops = [a for a in rest if a != "--print"] or ["dataplane", "controlplane"]
    edges = folder_graph(root, tops)
    if show:
        for src in sorted(edges):
            print(f"{src} -> {', '.join(sorted(edges[src])) or '(nothing)'}")
    bad = cycles(edges)
    for comp in bad:
        print("include cycle between folders: " + " <-> ".join(comp))
        members = set(comp)
        for src in comp:
            for dst, where in sorted(edges[src].items()):
                if dst in members:
                    print(f"  {src} -> {dst}   ({where})")
    if bad:
        return 1
    print(f"no include cycles among {len(edges)} folders")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
