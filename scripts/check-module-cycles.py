#!/usr/bin/env python3
"""Fails when two sibling source files of one crate import each other.

A file's imports are its `crate::…`, `super::…` and `self::…` paths outside comments and outside
its `#[cfg(test)] mod tests`; each path is resolved to the longest module file it names. A parent
module and its own submodules may name each other (Rust's module tree needs that); any other
pair of files that name each other is a cycle, reported as `cycle: a.rs <-> b.rs`.

    scripts/check-module-cycles.py      # from the repository root
"""

import re
import subprocess
import sys


def module_of(path):
    """(crate source root, module path) of a file under some `src/`."""
    i = path.index("src/")
    root, rel = path[: i + 4], path[i + 4 : -3]
    parts = rel.split("/")
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return root, tuple(parts)


def code_of(path):
    text = open(path, encoding="utf-8").read().split("#[cfg(test)]\nmod tests")[0]
    return "\n".join(l for l in text.split("\n") if not l.strip().startswith("//"))


def main():
    files = [
        f
        for f in subprocess.check_output(["git", "ls-files", "*.rs"], text=True).split()
        if f.startswith("src/") or "/src/" in f
    ]
    modules = {module_of(f): f for f in files}
    edges = set()
    for f in files:
        root, here = module_of(f)
        for m in re.finditer(r"\b(crate|super|self)((?:::\w+)+)", code_of(f)):
            kind, names = m.group(1), m.group(2).split("::")[1:]
            base = () if kind == "crate" else here if kind == "self" else here[:-1]
            for k in range(len(names), -1, -1):
                target = base + tuple(names[:k])
                if (root, target) in modules:
                    if target != here:
                        edges.add(((root, here), (root, target)))
                    break
    cycles = []
    for a, b in sorted(edges):
        if a < b and (b, a) in edges:
            pa, pb = a[1], b[1]
            if pa == pb[: len(pa)] or pb == pa[: len(pb)]:
                continue  # a module and its own submodule
            cycles.append(f"cycle: {modules[a]} <-> {modules[b]}")
    for c in cycles:
        print(c, file=sys.stderr)
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
