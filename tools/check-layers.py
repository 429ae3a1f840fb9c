#!/usr/bin/env python3
"""Check that user/ is layered: no include cycle and no call cycle among its
files, and no folder that uses (includes, or calls into) a folder above it.

The layers, lowest first (docs/architecture.md):
    lib    generic data structures, JSON writer, kallsyms
    event  the records BPF emits (shared with bpf/)
    trace  the trace file: format, writer, reader
    live   hooks, loader, coverage, ring buffer, stack records
    check  shadow state, replay, invariants, findings
    out    findings and run comparisons written out
    cmd    main, CLI, one file per command
A folder may use its own files and those of lower layers only.

Includes are read from the sources; calls from the objects (nm: which file
defines each global symbol another file references), so a call through a
prototype declared by hand is caught too.

usage: tools/check-layers.py [OBJDIR]   (OBJDIR: .output/user, optional)
Prints one line per violation and a summary; exit 1 if there is any.
"""
import os
import re
import subprocess
import sys

LAYERS = ["lib", "event", "trace", "live", "check", "out", "cmd"]
ROOT = os.environ.get('IA_LAYERS_ROOT') or os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'user')


def sources():
    for d in sorted(os.listdir(ROOT)):
        p = os.path.join(ROOT, d)
        if not os.path.isdir(p):
            continue
        for f in sorted(os.listdir(p)):
            if f.endswith((".c", ".h")):
                yield d + "/" + f


def include_graph(files):
    g = {}
    for f in files:
        with open(os.path.join(ROOT, f)) as fh:
            g[f] = [m for m in re.findall(r'^\s*#\s*include\s+"([^"]+)"', fh.read(), re.M)
                    if os.path.exists(os.path.join(ROOT, m))]
    return g


def call_graph(objdir):
    """file.c -> files whose global symbols it references."""
    defs, refs = {}, {}
    for d in LAYERS:
        p = os.path.join(objdir, d)
        if not os.path.isdir(p):
            continue
        for f in sorted(os.listdir(p)):
            if not f.endswith(".o"):
                continue
            src = d + "/" + f[:-2] + ".c"
            out = subprocess.run(["nm", os.path.join(p, f)], capture_output=True,
                                 text=True, check=True).stdout
            refs[src] = set()
            for line in out.splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[0] == "U":
                    refs[src].add(parts[1])
                elif len(parts) == 3 and parts[1] in "TDRBC":
                    defs[parts[2]] = src
    return {s: sorted({defs[r] for r in rs if r in defs and defs[r] != s})
            for s, rs in refs.items()}


def cycles(g):
    """Every edge that closes a cycle (DFS back edges), as paths."""
    found, state, stack = [], {}, []

    def dfs(u):
        state[u] = 1
        stack.append(u)
        for v in g.get(u, []):
            if state.get(v) == 1:
                found.append(stack[stack.index(v):] + [v])
            elif v not in state:
                dfs(v)
        stack.pop()
        state[u] = 2

    for u in sorted(g):
        if u not in state:
            dfs(u)
    return found


def layer(f):
    return LAYERS.index(f.split("/")[0]) if f.split("/")[0] in LAYERS else -1


def main():
    files = list(sources())
    bad = 0
    unknown = sorted({f.split("/")[0] for f in files} - set(LAYERS))
    for d in unknown:
        print(f"layers: user/{d}/ is not a known layer (add it to {__file__})")
        bad += 1
    graphs = [("include", include_graph(files))]
    objdir = sys.argv[1] if len(sys.argv) > 1 else None
    if objdir:
        graphs.append(("call", call_graph(objdir)))
    for kind, g in graphs:
        for c in cycles(g):
            print(f"layers: {kind} cycle: " + " -> ".join(c))
            bad += 1
        for u in sorted(g):
            for v in g[u]:
                if layer(v) > layer(u):
                    print(f"layers: {kind} upward: {u} ({u.split('/')[0]}) uses {v} "
                          f"({v.split('/')[0]})")
                    bad += 1
    edges = sum(len(v) for _, g in graphs for v in g.values())
    print(f"layers: {len(files)} files, {edges} include/call edges checked, "
          f"{bad} violations")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
