#!/usr/bin/env python3
"""file-graph.py: which source file of a folder uses which, and the cycles among them.

In a program whose files share one header (gui-sdl/review.h), the #include lines say little;
this reads the header's sections instead: a line `/* NAME.c ... */` starts the declarations of
NAME.c, and every function declared under it belongs to NAME.c. A file uses another when it
calls one of that file's functions. Prints one line per file, `a.c -> b.c c.c`, then the
cycles (strongly connected groups of more than one file).

usage: scripts/file-graph.py DIR [HEADER] [--acyclic FILE]...
       --acyclic FILE: exit 1 when FILE is in a cycle (e.g. testhooks.c)."""
import os
import re
import sys

args = sys.argv[1:]
acyclic = [args[i + 1] for i, a in enumerate(args) if a == "--acyclic"]
pos = [a for i, a in enumerate(args) if a != "--acyclic" and (i == 0 or args[i - 1] != "--acyclic")]
folder = pos[0]
header = pos[1] if len(pos) > 1 else None
sources = sorted(f for f in os.listdir(folder) if f.endswith(".c"))
if header is None:
    headers = [f for f in os.listdir(folder) if f.endswith(".h")]
    header = os.path.join(folder, headers[0])

owner = {}  # function name -> file that defines it
current = None
for line in open(header):
    m = re.match(r"\s*/\*\s*([\w-]+\.c)\b", line)
    if m:
        current = m.group(1)
        continue
    m = re.match(r"^[A-Za-z_][\w\s\*]*?\b(\w+)\s*\(", line)
    if current and m and not line.startswith("#") and not line.lstrip().startswith("typedef"):
        owner[m.group(1)] = current


def strip(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return re.sub(r'"(\\.|[^"\\])*"', '""', text)


uses = {}
for f in sources:
    words = set(re.findall(r"\b(\w+)\s*\(", strip(open(os.path.join(folder, f)).read())))
    uses[f] = sorted({owner[w] for w in words if w in owner and owner[w] != f})

for f in sources:
    print(f"{f} -> {' '.join(uses[f])}")

# Tarjan's strongly connected components
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in uses.get(v, []):
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
            sccs.append(sorted(comp))


sys.setrecursionlimit(10000)
for f in sources:
    if f not in index:
        visit(f)
for c in sccs:
    print("cycle: " + " ".join(c))
bad = [f for f in acyclic for c in sccs if f in c]
for f in bad:
    print(f"{f} is in a cycle", file=sys.stderr)
sys.exit(1 if bad else 0)
