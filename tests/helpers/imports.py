"""The import graph of the ``workers`` package, read from the source (nothing is imported).

Two granularities:

- modules: every ``.py`` file (a package is its ``__init__``) and every compiled module that
  has a ``.c`` source beside it; an edge for every ``import``/``from ... import`` of another
  module of the package, at the top of a file or inside a function (a lazy import is a
  dependency too).
- rooms: the top-level modules and folders of ``workers/`` (``clean``, ``runtime``,
  ``settings``, ...); a module edge between two rooms is a room edge.

A command module that nothing in the package imports, run as ``python -m`` (``COMMANDS``), is a
room of its own wherever its file sits: it uses the rooms it imports and nothing uses it, so it
is above them (``workers.identity.build`` writes identity's tables with extract's tokenizer).

A room's level is 0 when it imports no other room, else one more than the highest level it
imports; rooms on a cycle share one level. An upward edge is one that does not go down a level,
i.e. one on a cycle: a layered package has none.

``python -m tests.helpers.imports [--top-level]`` prints the figures (the layout test checks
them; ``--top-level``: imports made inside functions left out).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "workers"
#: Maintenance commands (``python -m``) that no module imports: each is a room of its own.
COMMANDS = {"workers.identity.build"}


@dataclass
class Graph:
    nodes: set[str] = field(default_factory=set)
    edges: set[tuple[str, str]] = field(default_factory=set)

    def imports(self, node: str) -> set[str]:
        return {b for a, b in self.edges if a == node}


def _module_name(path: Path, base: Path) -> str:
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path = ROOT, package: str = PACKAGE) -> dict[str, Path]:
    """Module name -> file (``.py``, or the ``.c`` source of a compiled module)."""
    found: dict[str, Path] = {}
    for path in sorted((root / package).rglob("*.py")):
        found[_module_name(path, root)] = path
    for path in sorted((root / package).rglob("*.c")):
        found.setdefault(_module_name(path, root), path)
    return found


def _import_nodes(tree: ast.AST, lazy: bool) -> Iterable[ast.AST]:
    """Every node of ``tree``; without ``lazy``, not those inside function bodies."""
    if lazy:
        yield from ast.walk(tree)
        return
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        todo.extend(
            child
            for child in ast.iter_child_nodes(node)
            if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        )


def _targets(tree: ast.AST, known: set[str], package: str, lazy: bool = True) -> set[str]:
    """The package's modules that ``tree`` imports (``lazy``: in function bodies too)."""
    out: set[str] = set()
    for node in _import_nodes(tree, lazy):
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.name
                while name and name not in known:  # import a.b.c: the deepest module known
                    name = name.rpartition(".")[0]
                if name.split(".")[0] == package:
                    out.add(name)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != package:
                continue
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                out.add(sub if sub in known else node.module)
    return out


def module_graph(root: Path = ROOT, package: str = PACKAGE, lazy: bool = True) -> Graph:
    """The module graph; ``lazy=False`` leaves out imports made inside functions."""
    files = modules(root, package)
    known = set(files)
    graph = Graph(nodes=set(known))
    for name, path in files.items():
        if path.suffix != ".py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for target in _targets(tree, known, package, lazy):
            if target != name:
                graph.edges.add((name, target))
    return graph


def room_of(module: str, package: str = PACKAGE) -> str:
    """``workers.clean.page`` -> ``clean``; the package itself is ``workers``; a command of
    ``COMMANDS`` is its own room (``identity.build``)."""
    if module in COMMANDS:
        return module.split(".", 1)[1]
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def room_graph(graph: Graph, package: str = PACKAGE) -> Graph:
    rooms = Graph(nodes={room_of(n, package) for n in graph.nodes})
    for a, b in graph.edges:
        ra, rb = room_of(a, package), room_of(b, package)
        if ra != rb:
            rooms.edges.add((ra, rb))
    return rooms


def components(graph: Graph) -> list[set[str]]:
    """Strongly connected components (Tarjan), every node in exactly one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []
    succ = {n: sorted(graph.imports(n)) for n in graph.nodes}

    def visit(start: str) -> None:
        work = [(start, iter(succ[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(succ[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                part: set[str] = set()
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    part.add(top)
                    if top == node:
                        break
                out.append(part)

    for node in sorted(graph.nodes):
        if node not in index:
            visit(node)
    return out


def cycles(graph: Graph) -> list[set[str]]:
    """The components with more than one node: each holds at least one import cycle."""
    return [c for c in components(graph) if len(c) > 1]


def levels(graph: Graph) -> dict[str, int]:
    """Node -> level (0: imports nothing; nodes of one cycle share a level)."""
    parts = components(graph)
    part_of = {n: i for i, part in enumerate(parts) for n in part}
    level: dict[int, int] = {}

    def of(i: int) -> int:
        if i not in level:
            below = {part_of[b] for n in parts[i] for b in graph.imports(n)} - {i}
            level[i] = 1 + max((of(j) for j in below), default=-1)
        return level[i]

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(parts) + 100))
    return {n: of(part_of[n]) for n in graph.nodes}


def upward_edges(graph: Graph) -> list[tuple[str, str]]:
    """Edges that do not go down a level (those on a cycle)."""
    level = levels(graph)
    return sorted((a, b) for a, b in graph.edges if level[b] >= level[a])


@dataclass(frozen=True)
class Summary:
    nodes: int
    edges: int
    levels: int
    upward: list[tuple[str, str]]
    cycles: list[list[str]]


def summary(graph: Graph) -> Summary:
    level = levels(graph)
    return Summary(
        nodes=len(graph.nodes),
        edges=len(graph.edges),
        levels=1 + max(level.values(), default=-1),
        upward=upward_edges(graph),
        cycles=[sorted(c) for c in cycles(graph)],
    )


def importers(graph: Graph, targets: Iterable[str]) -> dict[str, set[str]]:
    """Target -> the nodes that import it."""
    wanted = set(targets)
    out: dict[str, set[str]] = {t: set() for t in wanted}
    for a, b in graph.edges:
        if b in wanted:
            out[b].add(a)
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    lazy = "--top-level" not in args  # imports at the top of a module only
    mods = module_graph(lazy=lazy)
    rooms = room_graph(mods)
    print("imports inside functions counted" if lazy else "imports at module level only")
    for name, graph in (("rooms (top-level modules and folders)", rooms), ("modules", mods)):
        s = summary(graph)
        print(f"{name}: {s.nodes} nodes, {s.edges} edges, {s.levels} levels")
        print(f"  upward edges: {len(s.upward)}", *(f"{a} -> {b}" for a, b in s.upward))
        print(f"  cycles: {len(s.cycles)}", *s.cycles)
    level = levels(rooms)
    for n in range(max(level.values()), -1, -1):
        print(f"  level {n}: {' '.join(sorted(r for r, v in level.items() if v == n))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
