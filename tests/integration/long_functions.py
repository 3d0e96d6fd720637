#!/usr/bin/python3
"""Lists C functions longer than a bound (docs/STYLE: functions under ~80 lines).

Usage: long_functions.py [--max N] [--check] PATH...  (files or folders, searched for *.c)

A function is a top-level definition in the house layout: its opening brace alone at column 0
on the line after its signature, its closing brace alone at column 0. Its length is the lines
from the opening to the closing brace, both included. Prints "lines file:line name" per function
over the bound, longest first; with --check, exits 1 if there is any.
"""
import os
import re
import sys

SIGNATURE = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*\(')


def functions(path):
    """Yields (name, first line, length) of each top-level function of path."""
    with open(path, encoding='utf-8', errors='replace') as f:
        lines = f.read().split('\n')
    start = None
    for i, line in enumerate(lines):
        if line == '{' and i > 0 and start is None:
            # the signature: this line's predecessors back to one starting at column 0
            j = i - 1
            while j > 0 and (lines[j].startswith((' ', '\t')) or lines[j] == ''):
                j -= 1
            names = SIGNATURE.findall(' '.join(lines[j:i]))
            if names and not lines[j].startswith(('struct', 'typedef', 'enum', 'union')) \
                    and '=' not in lines[j]:
                start, name = i, names[0]
        elif line.startswith('}') and start is not None:
            yield name, start + 1, i - start + 1
            start = None


def main(argv):
    bound, check, paths = 80, False, []
    args = iter(argv)
    for a in args:
        if a == '--max':
            bound = int(next(args))
        elif a == '--check':
            check = True
        else:
            paths.append(a)
    files = []
    for p in paths:
        if os.path.isdir(p):
            for root, _, names in os.walk(p):
                files += [os.path.join(root, n) for n in names if n.endswith('.c')]
        else:
            files.append(p)
    long = [(n, f, line, name) for f in sorted(files) for name, line, n in functions(f)
            if n > bound]
    for n, f, line, name in sorted(long, reverse=True):
        print(f'{n:5d} {f}:{line} {name}')
    return 1 if check and long else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
