"""The package's layers, read from the source with ``ast`` so a wrong import fails here first.

Layers, lowest first; a module may import its own layer and those below it::

    catalog → request → providers → emulator → engine → workflows → faces

``errors`` is a base module anyone may import (it imports nothing of the package);
``__init__.py`` of the package is an entry point that may import anything. The emulator
(``seedance_nb/emulator/**``) may import only ``catalog`` (besides itself): it sits just below
the engine because the engine may start it. Every import counts: at module level, inside
functions and under ``if TYPE_CHECKING:`` (relative imports resolved).

Cycles are checked on module-level and function-level imports. Imports under ``TYPE_CHECKING``
are left out of the cycle check only (never out of the layer check): a module may name another
for type hints only (``engine.job`` and ``engine.client``, ``display`` and ``engine.job``), which
runs nothing at import time.
"""

from __future__ import annotations

import ast
import shutil
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import seedance_nb

PACKAGE = "seedance_nb"
ROOT = Path(seedance_nb.__file__).parent

BASE, ENTRY = "base", "entry"
ORDER = ("catalog", "request", "providers", "emulator", "engine", "workflows", "faces")
RANK = {BASE: -1, **{name: i for i, name in enumerate(ORDER)}, ENTRY: len(ORDER)}

# one line per module: a new module fails test_every_module_is_placed until it is placed here
LAYER_OF: dict[str, str] = {
    "seedance_nb": ENTRY,
    "seedance_nb.errors": BASE,
    "seedance_nb.catalog": "catalog",
    "seedance_nb.catalog.offers": "catalog",
    "seedance_nb.catalog.cadence": "catalog",
    "seedance_nb.catalog.prices": "catalog",
    "seedance_nb.catalog.providers": "catalog",
    "seedance_nb.catalog.table": "catalog",
    "seedance_nb.catalog.tiers": "catalog",
    "seedance_nb.request.schema": "request",
    "seedance_nb.request": "request",
    "seedance_nb.request.media": "request",
    "seedance_nb.request.prompt": "request",
    "seedance_nb.providers.task": "providers",
    "seedance_nb.request.model": "request",
    "seedance_nb.request.checks": "request",
    "seedance_nb.request.limits": "request",
    "seedance_nb.request.urls": "request",
    "seedance_nb.providers": "providers",
    "seedance_nb.providers.base": "providers",
    "seedance_nb.providers.ark": "providers",
    "seedance_nb.providers.cometapi": "providers",
    "seedance_nb.providers.evolink": "providers",
    "seedance_nb.providers.orcarouter": "providers",
    "seedance_nb.providers.seedance2ink": "providers",
    "seedance_nb.emulator": "emulator",
    "seedance_nb.emulator.__main__": "emulator",  # its own entry point; imports only the emulator
    "seedance_nb.emulator.dialects": "emulator",
    "seedance_nb.emulator.dialects._gateway": "emulator",
    "seedance_nb.emulator.dialects.base": "emulator",
    "seedance_nb.emulator.dialects.ark": "emulator",
    "seedance_nb.emulator.dialects.ark_checks": "emulator",
    "seedance_nb.emulator.dialects.cometapi": "emulator",
    "seedance_nb.emulator.dialects.evolink": "emulator",
    "seedance_nb.emulator.dialects.orcarouter": "emulator",
    "seedance_nb.emulator.dialects.seedance2ink": "emulator",
    "seedance_nb.emulator.audio": "emulator",
    "seedance_nb.emulator.callbacks": "emulator",
    "seedance_nb.emulator.frames": "emulator",
    "seedance_nb.emulator.media": "emulator",
    "seedance_nb.emulator.motion": "emulator",
    "seedance_nb.emulator.render_spec": "emulator",
    "seedance_nb.emulator.renders": "emulator",
    "seedance_nb.emulator.faults": "emulator",
    "seedance_nb.emulator.http_types": "emulator",
    "seedance_nb.emulator.render": "emulator",
    "seedance_nb.emulator.server": "emulator",
    "seedance_nb.emulator.service": "emulator",
    "seedance_nb.emulator.store": "emulator",
    "seedance_nb.engine.client": "engine",
    "seedance_nb.engine.job": "engine",
    "seedance_nb.engine.ledger": "engine",
    "seedance_nb.engine.ledger_core": "engine",
    "seedance_nb.engine.ledger_postgres": "engine",
    "seedance_nb.engine.ledger_url": "engine",
    "seedance_nb.engine.http": "engine",
    "seedance_nb.engine.settings": "engine",
    "seedance_nb.engine.downloader": "engine",
    "seedance_nb.engine.callbacks": "engine",
    "seedance_nb.engine.assets": "engine",
    "seedance_nb.display": "engine",
    "seedance_nb.display.files": "engine",
    "seedance_nb.display.job_view": "engine",
    "seedance_nb.display.style": "engine",
    "seedance_nb.display.words": "engine",
    "seedance_nb.display.spend": "engine",
    "seedance_nb.engine.budget": "engine",
    "seedance_nb.engine.expiry": "engine",
    "seedance_nb.engine.remix": "engine",
    "seedance_nb.engine": "engine",
    "seedance_nb.engine.state": "engine",
    "seedance_nb.engine.leases": "engine",
    "seedance_nb.engine.creator": "engine",
    "seedance_nb.engine.scheduler": "engine",
    "seedance_nb.engine.loop_share": "engine",
    "seedance_nb.engine.pacing": "engine",
    "seedance_nb.engine.status_reads": "engine",
    "seedance_nb.engine.callback_hints": "engine",
    "seedance_nb.engine.bridge": "engine",
    "seedance_nb.engine.frames": "engine",
    "seedance_nb.workflows": "workflows",
    "seedance_nb.workflows.board_html": "workflows",
    "seedance_nb.workflows.film": "workflows",
    "seedance_nb.workflows.storyboard": "workflows",
    "seedance_nb.workflows.sweep_plan": "workflows",
    "seedance_nb.workflows.sweep": "workflows",
    "seedance_nb.workflows.gallery_html": "workflows",
    "seedance_nb.engine.preview": "engine",
    "seedance_nb.engine.client_info": "engine",
    "seedance_nb.engine.storage": "engine",
    "seedance_nb.client": "faces",
    "seedance_nb.cli": "faces",
    "seedance_nb.cli.__main__": "faces",
    "seedance_nb.cli.generate": "faces",
    "seedance_nb.cli.jobs_control": "faces",
    "seedance_nb.cli.ledger_views": "faces",
    "seedance_nb.cli.models": "faces",
    "seedance_nb.cli.output": "faces",
    "seedance_nb.cli.parser": "faces",
    "seedance_nb.cli.spend": "faces",
    "seedance_nb.jupyter": "faces",
    "seedance_nb.jupyter.compare": "faces",
    "seedance_nb.jupyter.form": "faces",
    "seedance_nb.jupyter.form_widgets": "faces",
    "seedance_nb.jupyter.history": "faces",
    "seedance_nb.jupyter.magic": "faces",
    "seedance_nb.jupyter.magic_lines": "faces",
    "seedance_nb.jupyter.magic_options": "faces",
    "seedance_nb.jupyter.magic_sweep": "faces",
    "seedance_nb.jupyter.refs": "faces",
    "seedance_nb.jupyter.remix": "faces",
    "seedance_nb.jupyter.render": "faces",
    "seedance_nb.jupyter.runner": "faces",
    "seedance_nb.jupyter.storyboard": "faces",
    "seedance_nb.jupyter.sweep": "faces",
    "seedance_nb.jupyter.live": "faces",
    "seedance_nb.jupyter.view": "faces",
}

MODULE, FUNCTION, TYPE_CHECKING = "module", "function", "type-checking"


@dataclass(frozen=True)
class Edge:
    """One import of a package module by another, with where and how it happens."""

    src: str
    dst: str
    line: int
    kind: str  # MODULE, FUNCTION or TYPE_CHECKING

    def __str__(self) -> str:
        return f"{self.src} -> {self.dst} (line {self.line}, {self.kind})"


def module_names(root: Path, package: str = PACKAGE) -> dict[str, Path]:
    """Every module under ``root`` by dotted name (a package by its own name)."""
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[tuple[ast.Import | ast.ImportFrom, str]]:
    """Each import statement with its kind: type-checking wins over function, then module."""

    def walk(node: ast.AST, kind: str) -> Iterator[tuple[ast.Import | ast.ImportFrom, str]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, kind
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    yield from walk(ast.Module(body=[stmt], type_ignores=[]), TYPE_CHECKING)
                for stmt in child.orelse:
                    yield from walk(ast.Module(body=[stmt], type_ignores=[]), kind)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                yield from walk(child, TYPE_CHECKING if kind == TYPE_CHECKING else FUNCTION)
            else:
                yield from walk(child, kind)

    yield from walk(tree, MODULE)


def _targets(node: ast.Import | ast.ImportFrom, here: str, is_package: bool) -> Iterator[str]:
    """The absolute dotted names an import statement brings in."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
        return
    if node.level:
        base = here.split(".") if is_package else here.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        module = ".".join(base + ([node.module] if node.module else []))
    else:
        module = node.module or ""
    for alias in node.names:
        yield f"{module}.{alias.name}"  # a submodule if one exists, else an attribute of module


def import_graph(root: Path = ROOT, package: str = PACKAGE) -> list[Edge]:
    """Every import of one package module by another under ``root``."""
    modules = module_names(root, package)
    edges: list[Edge] = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, kind in _imports(tree):
            for target in _targets(node, name, path.name == "__init__.py"):
                while target and target not in modules:  # an attribute: its module
                    target = target.rpartition(".")[0]
                edge = Edge(name, target, node.lineno, kind)
                if target and target != name and edge not in edges:  # one per statement
                    edges.append(edge)
    return edges


def private_imports(root: Path = ROOT, package: str = PACKAGE) -> list[str]:
    """Imports of another library's private names (``httpx._multipart``): they break unannounced."""
    found: list[str] = []
    for name, path in module_names(root, package).items():
        for node, _kind in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level or node.module == package):
                continue
            if isinstance(node, ast.ImportFrom):
                dotted = [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                dotted = [alias.name for alias in node.names]
            for full in dotted:
                top, *rest = full.split(".")
                if top != package and any(part.startswith("_") for part in rest):
                    found.append(f"{name} imports {full} (line {node.lineno})")
    return found


def _in_emulator(module: str) -> bool:
    return module == f"{PACKAGE}.emulator" or module.startswith(f"{PACKAGE}.emulator.")


def layer_violations(edges: Iterable[Edge], layer_of: dict[str, str]) -> list[str]:
    """Imports of a higher layer by a lower one (type-checking imports included)."""
    problems = []
    for edge in edges:
        src, dst = layer_of.get(edge.src), layer_of.get(edge.dst)
        if src is None or dst is None or src == ENTRY:
            continue  # unplaced modules are reported by test_every_module_is_placed
        if RANK[dst] > RANK[src] or (src == BASE and dst != BASE):
            problems.append(f"{edge}: {src} layer imports {dst} layer")
    return problems


def emulator_violations(edges: Iterable[Edge]) -> list[str]:
    """Emulator modules importing anything of the package but catalog and the emulator."""
    return [
        f"{edge}: the emulator may import only {PACKAGE}.catalog"
        for edge in edges
        if _in_emulator(edge.src)
        and not _in_emulator(edge.dst)
        and edge.dst != f"{PACKAGE}.catalog"
    ]


def cycles(edges: Iterable[Edge]) -> list[list[str]]:
    """One cycle per strongly connected group of modules, ignoring type-checking imports."""
    graph: dict[str, list[str]] = {}
    for edge in edges:
        if edge.kind != TYPE_CHECKING:
            graph.setdefault(edge.src, []).append(edge.dst)
            graph.setdefault(edge.dst, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def connect(node: str) -> None:  # Tarjan; the package is small, recursion is fine
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return [_cycle_in(group, graph) for group in groups]


def _cycle_in(group: set[str], graph: dict[str, list[str]]) -> list[str]:
    """A concrete path start → … → start inside one strongly connected group."""
    start = min(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:  # breadth first: the shortest way back to start
        nxt_frontier = []
        for node in frontier:
            for nxt in sorted(graph[node]):
                if nxt == start:
                    return [*paths[node], start]
                if nxt in group and nxt not in paths:
                    paths[nxt] = [*paths[node], nxt]
                    nxt_frontier.append(nxt)
        frontier = nxt_frontier
    raise AssertionError(f"no cycle through {start} in {sorted(group)}")  # pragma: no cover


def _show(cycle: list[str]) -> str:
    return " -> ".join(name.removeprefix(f"{PACKAGE}.") for name in cycle)


# --- the package as it is ---------------------------------------------------------------------


def test_every_module_is_placed() -> None:
    modules = set(module_names(ROOT))
    outside = sorted(m for m in modules - set(LAYER_OF) if not _in_emulator(m))
    stale = sorted(m for m in set(LAYER_OF) - modules if not _in_emulator(m))
    assert not outside, f"place these modules in LAYER_OF: {outside}"
    assert not stale, f"LAYER_OF names modules that no longer exist: {stale}"
    assert {layer for layer in LAYER_OF.values()} <= set(RANK)


def test_layers_hold_outside_the_emulator() -> None:
    edges = [e for e in import_graph() if not _in_emulator(e.src)]
    problems = layer_violations(edges, LAYER_OF)
    assert not problems, "imports against the layers:\n" + "\n".join(problems)


def test_no_import_cycles_outside_the_emulator() -> None:
    found = [c for c in cycles(import_graph()) if not any(_in_emulator(m) for m in c)]
    assert not found, "import cycles:\n" + "\n".join(_show(c) for c in found)


def test_no_private_imports_from_other_libraries() -> None:
    found = private_imports()
    assert not found, "\n".join(found)


def test_emulator_imports_only_catalog_and_has_no_cycles() -> None:
    modules = set(module_names(ROOT))
    emulator = {m for m in modules if _in_emulator(m)}
    assert not emulator - set(LAYER_OF), f"place in LAYER_OF: {sorted(emulator - set(LAYER_OF))}"
    stale = sorted(m for m in set(LAYER_OF) - modules if _in_emulator(m))
    assert not stale, f"LAYER_OF names emulator modules that no longer exist: {stale}"
    edges = import_graph()
    problems = emulator_violations(edges)
    problems += layer_violations([e for e in edges if _in_emulator(e.src)], LAYER_OF)
    problems += ["cycle: " + _show(c) for c in cycles(edges) if any(_in_emulator(m) for m in c)]
    assert not problems, "\n".join(problems)


# --- the checker is shown to catch what it is meant to catch -----------------------------------


def test_a_planted_upward_import_is_reported() -> None:
    planted = Edge("seedance_nb.catalog", "seedance_nb.jupyter.magic", 1, FUNCTION)
    problems = layer_violations([*import_graph(), planted], LAYER_OF)
    assert [p for p in problems if p.startswith(str(planted))] == [
        f"{planted}: catalog layer imports faces layer"
    ]
    typed = Edge("seedance_nb.errors", "seedance_nb.engine.job", 1, TYPE_CHECKING)
    assert layer_violations([typed], LAYER_OF) == [f"{typed}: base layer imports engine layer"]
    entry = Edge("seedance_nb", "seedance_nb.jupyter.magic", 1, MODULE)
    assert layer_violations([entry], LAYER_OF) == []


def test_a_planted_cycle_is_reported_and_type_checking_edges_are_not_cycles() -> None:
    down = Edge("seedance_nb.a_schema", "seedance_nb.b_request", 1, MODULE)
    up = Edge("seedance_nb.b_request", "seedance_nb.a_schema", 9, FUNCTION)
    via = Edge("seedance_nb.b_request", "seedance_nb.c_prompt", 2, MODULE)
    back = Edge("seedance_nb.c_prompt", "seedance_nb.a_schema", 3, MODULE)
    assert cycles([down, up]) == [
        ["seedance_nb.a_schema", "seedance_nb.b_request", "seedance_nb.a_schema"]
    ]
    assert cycles([down, via, back]) == [
        [
            "seedance_nb.a_schema",
            "seedance_nb.b_request",
            "seedance_nb.c_prompt",
            "seedance_nb.a_schema",
        ]
    ]
    hint = Edge("seedance_nb.b_request", "seedance_nb.a_schema", 9, TYPE_CHECKING)
    assert cycles([down, hint]) == []


def test_a_planted_emulator_import_is_reported() -> None:
    planted = Edge("seedance_nb.emulator.store", "seedance_nb.engine.client", 4, FUNCTION)
    ok = [
        Edge("seedance_nb.emulator.store", "seedance_nb.catalog", 1, MODULE),
        Edge("seedance_nb.emulator.server", "seedance_nb.emulator.store", 1, MODULE),
    ]
    assert emulator_violations([*ok, planted]) == [
        f"{planted}: the emulator may import only seedance_nb.catalog"
    ]
    errors_edge = Edge("seedance_nb.emulator.store", "seedance_nb.errors", 2, MODULE)
    assert emulator_violations([errors_edge]) != []


def test_the_parser_resolves_relative_function_and_type_checking_imports(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    files = {
        "__init__.py": "from .low import thing\n",
        "low.py": "thing = 1\n",
        "sub/__init__.py": "from .. import low\n",
        "sub/mod.py": """\
            from __future__ import annotations
            import typing
            from typing import TYPE_CHECKING
            from ..low import thing
            if TYPE_CHECKING:
                from . import other
            if typing.TYPE_CHECKING:
                import pkg.low
            else:
                import json
            def late() -> None:
                from .other import name
                import pkg.sub
            class Holder:
                def method(self) -> None:
                    from httpx._multipart import MultipartStream
            """,
        "sub/other.py": "name = 2\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    edges = {(e.src, e.dst, e.kind) for e in import_graph(root, "pkg")}
    assert edges == {
        ("pkg", "pkg.low", MODULE),
        ("pkg.sub", "pkg.low", MODULE),
        ("pkg.sub.mod", "pkg.low", MODULE),
        ("pkg.sub.mod", "pkg.sub.other", TYPE_CHECKING),
        ("pkg.sub.mod", "pkg.low", TYPE_CHECKING),
        ("pkg.sub.mod", "pkg.sub.other", FUNCTION),
        ("pkg.sub.mod", "pkg.sub", FUNCTION),
    }
    assert private_imports(root, "pkg") == [
        "pkg.sub.mod imports httpx._multipart.MultipartStream (line 16)"
    ]


def test_the_checker_finds_a_violation_planted_in_a_copy_of_the_tree(tmp_path: Path) -> None:
    copy = tmp_path / PACKAGE
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    catalog = copy / "catalog" / "__init__.py"  # a package: ".." is seedance_nb
    catalog.write_text(
        catalog.read_text() + "\n\ndef _planted() -> None:\n    from ..jupyter import magic\n"
    )
    edges = import_graph(copy)
    problems = layer_violations(edges, LAYER_OF)
    assert any(
        p.startswith("seedance_nb.catalog -> seedance_nb.jupyter.magic") and "function" in p
        for p in problems
    ), problems
    assert any("seedance_nb.catalog" in c for c in cycles(edges))  # magic imports catalog
