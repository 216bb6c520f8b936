"""Import cycles between modules of src/: every `crate::…` / `super::…` / `self::…` path in a
file (use lines and inline paths, comments stripped) is resolved to the longest module it
names; a pair of peers importing each other, or a longer loop, fails. A parent module and its
own submodules (`mod x; pub use x::Y;` with `x` using `super::Z`) count as one unit.

Usage: python3 .ci/module_cycles.py [src]"""
import os, re, sys
root = sys.argv[1] if len(sys.argv) > 1 else 'src'
mods = {}
for d, _, fs in os.walk(root):
    for f in fs:
        if not f.endswith('.rs'): continue
        p = os.path.join(d, f); rel = os.path.relpath(p, root)[:-3].split(os.sep)
        if rel[-1] in ('mod', 'lib', 'main'): rel = rel[:-1]
        mods[tuple(rel)] = p
def resolve(path):
    for n in range(len(path), 0, -1):
        if tuple(path[:n]) in mods: return tuple(path[:n])
    return None
edges = {}
for m, p in mods.items():
    src = open(p).read()
    src = re.sub(r'//[^\n]*', '', src)  # comments name modules without importing them
    is_dir_mod = os.path.basename(p) in ('mod.rs', 'lib.rs')
    here = list(m) if is_dir_mod else list(m)  # `self::` base
    parent = list(m) if is_dir_mod else list(m[:-1])
    targets = set()
    # brace groups: crate::a::{b, c::d}
    for prefix, body in re.findall(r'\b(crate(?:::\w+)*|super(?:::\w+)*|self(?:::\w+)*)::\{([^}]*)\}', src):
        for item in body.split(','):
            item = item.strip().split(' as ')[0]
            if item: targets.add(prefix + '::' + item)
    for t in re.findall(r'\b((?:crate|super|self)(?:::\w+)+)', src):
        targets.add(t)
    for t in targets:
        seg = t.split('::')
        if seg[0] == 'crate': base, rest = [], seg[1:]
        elif seg[0] == 'self': base, rest = (list(m) if is_dir_mod else list(m)), seg[1:]
        else:
            base = parent[:]
            while seg and seg[0] == 'super':
                seg = seg[1:]
                if seg and seg[0] == 'super': base = base[:-1]
            # first `super` = parent of this module
            rest = seg
            if not is_dir_mod: pass
            else: base = list(m[:-1])
        r = resolve(base + rest)
        if r and r != m: edges.setdefault(m, set()).add(r)
pairs = sorted({tuple(sorted((a, b))) for a in edges for b in edges[a] if a in edges.get(b, ())})
# A parent that declares and re-exports its submodules, used back by them (`super::Error`), is
# one unit; peers importing each other are the cycles that matter.
nested = [(a, b) for a, b in pairs if a == b[:len(a)] or b == a[:len(b)]]
bad = [p for p in pairs if p not in nested]
name = lambda m: '::'.join(m) or 'crate'
for a, b in nested:
    print('parent/child:', name(a), '<->', name(b))
for a, b in bad:
    print('CYCLE:', name(a), '<->', name(b))
print(f'{len(mods)} modules, {sum(len(v) for v in edges.values())} edges, {len(bad)} cycles between peers')
# Longer loops too (a -> b -> c -> a), ignoring parent/child edges.
related = lambda a, b: a == b[:len(a)] or b == a[:len(b)]
g = {a: {b for b in bs if not related(a, b)} for a, bs in edges.items()}
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)
def strong(v):
    index[v] = low[v] = counter[0]; counter[0] += 1; stack.append(v); on.add(v)
    for w in g.get(v, ()):
        if w not in index: strong(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: sccs.append(comp)
for v in list(g):
    if v not in index: strong(v)
for comp in sccs:
    print('LOOP:', ' , '.join(sorted(name(m) for m in comp)))
print(f'{len(sccs)} import loops of any length between peers')
sys.exit(1 if bad or sccs else 0)
