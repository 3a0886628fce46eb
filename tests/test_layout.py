"""The package keeps its promises about structure: pure stages, one runtime room, a flow that
reads top to bottom (no import cycle, no arrow back up), no module name in two rooms, shipped
schemas. The import graph is read from the source (``tests/helpers/imports.py``;
``python -m tests.helpers.imports`` prints it)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import imports

ROOT = Path(__file__).resolve().parents[1]
KAFKA_LIBRARIES = ("faust", "mode", "aiokafka")

#: What runs without Kafka: the stages, identity, the web's answers, the offline commands and
#: the plain parts of the clients and the export. None of them imports faust, mode or aiokafka,
#: at the top or inside a function, directly or through what it imports.
PURE = [
    "workers.clean",
    "workers.extract",
    "workers.identity",
    "workers.count",
    "workers.web.queries",
    "workers.web.metrics",
    "workers.web.dashboard",
    "workers.offline",
    "workers.stage",
    "workers.stats",
    "workers.contracts",
    "workers.settings",
    "workers.export.rows",
    "workers.export.files",
    "workers.clients.warc",
    "workers.clients.scrapy",
    "workers.extract.train",
    "workers.identity.build",
]
#: Rooms of PURE whose every module is checked in the source, lazy imports included.
PURE_ROOMS = ["clean", "extract", "identity", "count"]

#: Kafka clients that are not the worker: they may use aiokafka (never faust or mode).
AIOKAFKA_CLIENTS = {
    "workers/brokers/common.py",
    "workers/clients/producer.py",
    "workers/clients/tail.py",
    "workers/export/parquet.py",
    "workers/bench/end_to_end.py",
    "workers/cli.py",
}

#: A module name may repeat across rooms only as the same part of each stage.
STAGE_PARTS = {"batch": {"clean", "extract", "count"}, "record": {"clean", "extract"}}


def _libraries_imported(path: Path) -> set[str]:
    """Top-level names of the libraries a module imports anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_load_no_kafka_library(module: str) -> None:
    code = (
        f"import sys, {module}; "
        f"bad = [m for m in sys.modules if m.split('.')[0] in {KAFKA_LIBRARIES!r}]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("room", PURE_ROOMS)
def test_pure_rooms_import_no_kafka_library_anywhere(room: str) -> None:
    for path in sorted((ROOT / "workers" / room).rglob("*.py")):
        assert not _libraries_imported(path) & set(KAFKA_LIBRARIES), path


def test_faust_and_mode_only_in_the_runtime_room_aiokafka_only_in_clients() -> None:
    for path in sorted((ROOT / "workers").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        used = _libraries_imported(path)
        if rel.startswith("workers/runtime/"):
            continue
        assert not used & {"faust", "mode"}, rel
        if "aiokafka" in used:
            assert rel in AIOKAFKA_CLIENTS, rel


def test_no_module_imports_another_in_a_cycle() -> None:
    graph = imports.module_graph()  # imports inside functions count too
    assert imports.cycles(graph) == []


def test_rooms_are_layered_with_no_arrow_back_up() -> None:
    """Every import between rooms goes down a level: no cycle among the rooms, lazy imports
    included."""
    rooms = imports.room_graph(imports.module_graph())
    assert imports.cycles(rooms) == []
    assert imports.upward_edges(rooms) == []


def test_the_flow_reads_top_to_bottom() -> None:
    """Raw to count: the runtime composes the stages, the stages use their parts, never the
    other way round."""
    level = imports.levels(imports.room_graph(imports.module_graph()))
    assert level["runtime"] > max(level["clean"], level["extract"], level["count"])
    assert level["extract"] > level["identity"]
    assert level["cli"] == max(level.values())


def test_commands_are_imported_by_no_module() -> None:
    """A command taken as a room of its own (``imports.COMMANDS``) must stay one: a module that
    imported it would bring its imports along."""
    graph = imports.module_graph()
    for command, importers in imports.importers(graph, imports.COMMANDS).items():
        assert importers == set(), command


def test_no_module_name_in_two_rooms() -> None:
    rooms_of: dict[str, set[str]] = {}
    for module in imports.modules():
        parts = module.split(".")
        if len(parts) < 2 or parts[-1].startswith("_"):
            continue  # the package itself, and compiled twins (_viterbi beside decoder.py)
        rooms_of.setdefault(parts[-1], set()).add(parts[1] if len(parts) > 2 else "workers")
    repeated = {
        name: rooms
        for name, rooms in rooms_of.items()
        if len(rooms) > 1 and not rooms <= STAGE_PARTS.get(name, set())
    }
    assert repeated == {}


def test_the_import_graph_reader_sees_a_cycle_and_an_upward_edge(tmp_path: Path) -> None:
    """The checks above could fail: a package with a cycle between two rooms (one import made
    inside a function) is caught."""
    pkg = tmp_path / "demo"
    for folder in ("low", "high"):
        (pkg / folder).mkdir(parents=True)
        (pkg / folder / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "low" / "a.py").write_text("def f():\n    from demo.high.b import g\n    return g\n")
    (pkg / "high" / "b.py").write_text("from demo.low.a import f\n\ndef g():\n    return f\n")
    graph = imports.module_graph(root=tmp_path, package="demo")
    rooms = imports.room_graph(graph, package="demo")
    assert imports.cycles(rooms) == [{"low", "high"}]
    assert len(imports.upward_edges(rooms)) == 2
    assert imports.cycles(imports.module_graph(root=tmp_path, package="demo", lazy=False)) == []


def test_packaged_schemas_are_the_top_level_schemas() -> None:
    from importlib import resources

    top = sorted(p.name for p in (ROOT / "schemas").glob("*.schema.json"))
    assert top
    for name in top:
        shipped = resources.files("workers").joinpath("schemas", name).read_bytes()
        assert shipped == (ROOT / "schemas" / name).read_bytes()
