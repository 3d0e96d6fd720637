#!/usr/bin/python3
"""Which subsystem folder calls which, read from the built objects (nm), and the cycles.

usage: layering.py BUILD_DIR TREE [--modules] [--allow A>B ...]
TREE is "collector", "agent" or "lib". A folder is the directory of a source under TREE; files
directly in TREE form the folder "." (for the collector: the context that wires the subsystems
together). With --modules each source file (module) is a node instead, named by its path under
TREE without ".c" (e.g. "spool", "notify/notify_trap"): the calls between the modules of one
folder, which the folder view cannot see.
Prints every edge "A -> B  (symbols)" and every cycle; exits 1 if a cycle exists that is not made
only of allowed edges (--allow A>B, repeatable). docs/architecture.md ("Module map") explains the
layers.
"""
import os, subprocess, sys, collections

def objects(build, tree, modules=False):
    """(node, object path) for every object built from a source under tree: the node is the
    source's folder, or with modules the source itself."""
    out = []
    for root, _, files in os.walk(os.path.join(build, tree)):
        for f in files:
            if not f.endswith('.o'):
                continue
            rel = os.path.relpath(root, os.path.join(build, tree))
            if rel.endswith('.libs'):
                rel = os.path.dirname(rel) or '.'
            src_base = f.split('-', 1)[-1][:-2] + '.c'
            src = os.path.join(SRC, tree, '' if rel == '.' else rel, src_base)
            if not os.path.exists(src):  # stale objects of moved sources are ignored
                continue
            folder = rel if rel else '.'
            node = os.path.normpath(os.path.join(folder, src_base[:-2])) if modules else folder
            out.append((node, os.path.join(root, f)))
    return out

def symbols(obj):
    defined, undefined = set(), set()
    for line in subprocess.run(['nm', obj], capture_output=True, text=True).stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == 'U':
            undefined.add(parts[1])
        elif len(parts) == 3 and parts[1] in 'TDBR':
            defined.add(parts[2])
    return defined, undefined

def main():
    global SRC
    build, tree = sys.argv[1], sys.argv[2]
    SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    args = sys.argv[3:]
    modules = '--modules' in args
    allow = {tuple(args[i + 1].split('>')) for i, a in enumerate(args)
             if a == '--allow' and i + 1 < len(args)}
    owner, uses = {}, collections.defaultdict(set)
    seen = set()
    for folder, obj in objects(build, tree, modules):
        base = os.path.basename(obj)
        if (folder, base) in seen:
            continue  # the .libs/ twin of a libtool object
        seen.add((folder, base))
        d, u = symbols(obj)
        for s in d:
            owner[s] = folder
        uses[folder] |= u
    edges = collections.defaultdict(set)
    for folder, us in uses.items():
        for s in us:
            o = owner.get(s)
            if o is not None and o != folder:
                edges[(folder, o)].add(s)
    for (a, b), syms in sorted(edges.items()):
        print(f'{a} -> {b}  ({", ".join(sorted(syms)[:6])}{" ..." if len(syms) > 6 else ""})')
    graph = collections.defaultdict(set)
    for (a, b) in edges:
        if (a, b) not in allow:
            graph[a].add(b)
    # cycles: any edge a->b where b reaches a
    def reaches(x, y, seen):
        if x == y:
            return True
        seen.add(x)
        return any(reaches(n, y, seen) for n in graph[x] if n not in seen)
    cycles = sorted({(a, b) for a in list(graph) for b in graph[a] if reaches(b, a, set())})
    for a, b in cycles:
        print(f'CYCLE: {a} -> {b} and {b} reaches {a}')
    return 1 if cycles else 0

sys.exit(main())
