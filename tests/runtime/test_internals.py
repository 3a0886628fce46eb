"""The faust / mode / aiokafka / aiohttp internals newsflow relies on, on the installed versions.

``workers.runtime``'s package docstring lists them ("Internals used"); ``INTERNALS`` below is the
same list as data. For each name this module checks that the installed library still has it,
with the signature the code overrides or calls, and that the read loop copied into
``LedgerConsumer`` is still Faust's. It also reads the source of ``workers/`` and checks that
the private names of these libraries it uses are exactly the listed ones, and used only in the
runtime room. An upgrade of faust-streaming (or aiokafka, mode, aiohttp) that moves one of them
fails here, in one place, before the suite's behaviour tests fail somewhere less clear.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import inspect
import re
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

import workers.runtime

ROOT = Path(__file__).resolve().parents[2]
LIBRARIES = ("faust", "mode", "aiokafka", "aiohttp")

#: distribution -> the version prefix the list was checked against (pyproject.toml pins the first
#: two; mode-streaming and aiohttp are what faust-streaming 0.15.3 resolves to).
PINS = {
    "faust-streaming": "0.15.3",
    "aiokafka": "0.14.",
    "mode-streaming": "0.7.",
    "aiohttp": "3.14.",
}

#: owner (a module, a class, or an object: the dotted path to it) -> the names used on it.
INTERNALS: dict[str, tuple[str, ...]] = {
    "faust.App": ("_new_transport", "_new_producer", "_producer"),
    "faust.transport.producer.Producer": ("buffer",),
    "faust.transport.producer.ProducerBuffer": (
        "max_messages",
        "_send_pending",
        "message_sent",
        "app",
    ),
    "faust.transport.consumer.Consumer": (
        "_drain_messages",
        "_commit_offsets",
        "_filter_tps_with_pending_acks",
        "_filter_committable_offsets",
        "_commit",
        "_seek",
        "_thread",
        "_read_offset",
        "_committed_offset",
        "_acked",
        "_acked_index",
        "_unacked_messages",
        "_waiting_for_ack",
    ),
    "faust.transport.consumer": ("CONSUMER_FETCHING",),
    "faust.types.tuples": ("ack_lock",),
    "faust.streams": ("_current_event",),
    "faust.streams.Stream": ("_active_agens", "_enable_passive", "_processors"),
    "faust.stores.base.SerializedStore": ("_get", "_decode_value", "_iterkeys"),
    "faust.Record": ("_blessed_key",),
    "faust.stores.rocksdb.Store": ("use_rocksdict", "rocksdb_options", "options"),
    "faust.stores.STORES": ("aliases",),
    "faust.serializers.codecs.Codec": ("_dumps", "_loads"),
    "mode.Service": ("_stopped",),
    "aiokafka.client.AIOKafkaClient": ("_get_conn", "_conns"),
    "aiokafka.AIOKafkaConsumer": ("_client",),
    "aiohttp.web_protocol.RequestHandler": ("handle_error",),
}

#: Private names used outside workers/runtime/, and where (a bench reading its own results).
OUTSIDE_THE_ROOM = {"_client": {"workers/bench/end_to_end.py"}}

#: (owner, name) -> parameter names, for what the code overrides, wraps or calls.
SIGNATURES: dict[tuple[str, str], list[str]] = {
    ("faust.App", "_new_transport"): ["self"],
    ("faust.App", "_new_producer"): ["self"],
    ("faust.transport.producer.ProducerBuffer", "_send_pending"): ["self", "fut"],
    ("faust.transport.consumer.Consumer", "_drain_messages"): ["self", "fetcher"],
    ("faust.transport.consumer.Consumer", "_commit_offsets"): [
        "self",
        "offsets",
        "start_new_transaction",
    ],
    ("faust.transport.consumer.Consumer", "_filter_tps_with_pending_acks"): ["self", "topics"],
    ("faust.transport.consumer.Consumer", "_filter_committable_offsets"): ["self", "tps"],
    ("faust.transport.consumer.Consumer", "_commit"): ["self", "offsets"],
    ("faust.transport.consumer.Consumer", "_seek"): ["self", "partition", "offset"],
    ("faust.streams.Stream", "_enable_passive"): ["self", "channel", "declare"],
    ("faust.stores.base.SerializedStore", "_get"): ["self", "key"],
    ("faust.stores.base.SerializedStore", "_decode_value"): ["self", "value"],
    ("faust.stores.base.SerializedStore", "_iterkeys"): ["self"],
    ("faust.serializers.codecs.Codec", "_dumps"): ["self", "s"],
    ("faust.serializers.codecs.Codec", "_loads"): ["self", "s"],
    ("aiokafka.client.AIOKafkaClient", "_get_conn"): ["self", "node_id", "group", "no_hint"],
    ("aiohttp.web_protocol.RequestHandler", "handle_error"): [
        "self",
        "request",
        "status",
        "exc",
        "message",
    ],
}

#: sha256 of ``inspect.getsource(faust.transport.consumer.Consumer._drain_messages)`` in
#: faust-streaming 0.15.3: the loop ``workers.runtime.consumer.LedgerConsumer`` copies. When it
#: changes, copy the new loop again (with the ledger's hand-over) and record its digest here.
DRAIN_MESSAGES_SHA256 = "44a2500309e83c630493f6828af50166ec8d96a0b3e4fb2bab735f704ae93417"

PAIRS = [(owner, name) for owner, names in INTERNALS.items() for name in names]


def resolve(path: str) -> Any:
    """The module, class or object at a dotted path (the longest importable module first)."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(path)


@pytest.mark.parametrize("dist", sorted(PINS))
def test_the_installed_libraries_are_the_ones_the_list_was_checked_against(dist: str) -> None:
    assert metadata.version(dist).startswith(PINS[dist]), (dist, metadata.version(dist))


def test_the_runtime_docstring_lists_every_internal() -> None:
    doc = workers.runtime.__doc__ or ""
    section = doc.split("Internals used", 1)[1]
    for owner, name in PAIRS:
        assert f"{name}``" in section, f"{owner}.{name} is not in workers.runtime's docstring"
        assert owner.rsplit(".", 1)[-1] in section, owner
    for dist, pin in PINS.items():
        assert f"{dist}{'==' if dist == 'faust-streaming' else ' '}{pin.rstrip('.')}" in section


@pytest.fixture
async def live_objects(tmp_path: Path) -> Any:
    """Owner -> an object to look the names up on, where they are instance attributes: a Faust
    app (nothing started, no broker needed), its consumer, producer, a stream and a rocksdb
    store (not opened); aiokafka clients that were never started."""
    import faust
    from aiokafka import AIOKafkaConsumer
    from aiokafka.client import AIOKafkaClient
    from faust.stores import rocksdb

    app = faust.App(
        "newsflow-internals", broker="kafka://127.0.0.1:9", store="memory://", datadir=tmp_path
    )
    consumer = AIOKafkaConsumer(bootstrap_servers="127.0.0.1:9")
    objects = {
        "faust.App": app,
        "faust.transport.producer.Producer": app.producer,
        "faust.transport.producer.ProducerBuffer": app.producer.buffer,
        "faust.transport.consumer.Consumer": app.consumer,
        "faust.streams.Stream": app.topic("newsflow-internals").stream(),
        "mode.Service": app.consumer,
        "aiokafka.client.AIOKafkaClient": AIOKafkaClient(bootstrap_servers="127.0.0.1:9"),
        "aiokafka.AIOKafkaConsumer": consumer,
        "faust.stores.rocksdb.Store": rocksdb.Store("rocksdb://", app, app.Table("internals")),
    }
    yield objects
    await consumer.stop()


@pytest.mark.parametrize(("owner", "name"), PAIRS, ids=[f"{o}.{n}" for o, n in PAIRS])
async def test_each_internal_is_there(owner: str, name: str, live_objects: dict[str, Any]) -> None:
    cls_or_module = resolve(owner)
    holder = live_objects.get(owner, cls_or_module)
    if inspect.isclass(cls_or_module):
        assert isinstance(holder, cls_or_module) or holder is cls_or_module
    assert hasattr(holder, name), f"{owner} has no {name} any more"


@pytest.mark.parametrize(("owner", "name"), sorted(SIGNATURES), ids=lambda x: str(x))
def test_what_the_code_overrides_or_calls_keeps_its_parameters(owner: str, name: str) -> None:
    assert (owner, name) in PAIRS
    found = inspect.signature(getattr(resolve(owner), name))
    assert list(found.parameters) == SIGNATURES[owner, name]


def test_the_overrides_take_what_the_originals_take() -> None:
    """Each method the runtime overrides has the parameters of the one it replaces."""
    from faust.serializers.codecs import Codec
    from faust.transport.consumer import Consumer
    from faust.transport.producer import ProducerBuffer

    from workers.runtime.app import NewsflowApp
    from workers.runtime.codec import OrjsonCodec
    from workers.runtime.consumer import LedgerConsumer
    from workers.runtime.delivery import CountingBuffer

    pairs: list[tuple[Callable[..., Any], Callable[..., Any]]] = [
        (NewsflowApp._new_transport, resolve("faust.App")._new_transport),
        (NewsflowApp._new_producer, resolve("faust.App")._new_producer),
        (CountingBuffer._send_pending, ProducerBuffer._send_pending),
        (OrjsonCodec._dumps, Codec._dumps),
        (OrjsonCodec._loads, Codec._loads),
    ]
    for name in (
        "_drain_messages",
        "_commit_offsets",
        "_filter_tps_with_pending_acks",
        "_filter_committable_offsets",
    ):
        pairs.append((getattr(LedgerConsumer, name), getattr(Consumer, name)))
    for ours, theirs in pairs:
        assert _shape(ours) == _shape(theirs), ours.__qualname__


def _shape(fn: Callable[..., Any]) -> list[tuple[str, Any]]:
    """What a caller relies on: each parameter's kind, and the name of those passed by name
    (a default, or keyword-only); a positional one may have another name."""
    out: list[tuple[str, Any]] = []
    for p in inspect.signature(fn).parameters.values():
        by_name = p.default is not p.empty or p.kind is p.KEYWORD_ONLY
        out.append((p.kind.name, p.name if by_name else None))
    return out


def test_the_copied_read_loop_is_still_fausts() -> None:
    from faust.transport.consumer import Consumer

    source = inspect.getsource(Consumer._drain_messages)
    assert hashlib.sha256(source.encode()).hexdigest() == DRAIN_MESSAGES_SHA256, (
        "faust's Consumer._drain_messages changed: copy it again into "
        "workers/runtime/consumer.py (LedgerConsumer) and record the new digest"
    )


# The other direction: what the source of workers/ uses.


def _library_imports(tree: ast.Module) -> set[str]:
    """Local names bound to something of LIBRARIES by the module's imports."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in LIBRARIES:
                    names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom) and _from_library(node):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def _from_library(node: ast.ImportFrom) -> bool:
    return bool(node.module) and str(node.module).split(".")[0] in LIBRARIES


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _library_bases(module: str, node: ast.ClassDef) -> list[type]:
    """The classes of LIBRARIES that the class ``node`` of ``module`` derives from (its bases
    looked up in the module's namespace, so a class defined in a function counts too)."""
    namespace = vars(importlib.import_module(module))
    out: list[type] = []
    for base in node.bases:
        obj: Any = namespace.get(_root_name(base) or "")
        for attr in reversed(_attribute_chain(base)):
            obj = getattr(obj, attr, None)
        if inspect.isclass(obj):
            out += [b for b in obj.__mro__ if b.__module__.split(".")[0] in LIBRARIES]
    return out


def _attribute_chain(node: ast.expr) -> list[str]:
    """``a.b.c`` -> ["c", "b"] (the attributes after the root name, innermost last)."""
    chain: list[str] = []
    while isinstance(node, ast.Attribute):
        chain.append(node.attr)
        node = node.value
    return chain


def private_uses(path: Path) -> Iterator[str]:
    """The private names of LIBRARIES a module uses: imported from them, defined in a class
    derived from one of theirs (an override), set on one of their objects, or read from an
    object whose attribute the module does not define itself."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    from_libraries = _library_imports(tree)
    own: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            derived = any(_root_name(base) in from_libraries for base in node.bases)
            bases = _library_bases(module, node) if derived else []
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    name = item.name
                    private = name.startswith("_") and not name.startswith("__")
                    if private and any(hasattr(b, name) for b in bases):
                        yield name  # an override
                    else:
                        own.add(name)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            own.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            if _root_name(node.value) in from_libraries:
                if node.attr.startswith("_"):
                    yield node.attr
            else:
                own.add(node.attr)
        elif isinstance(node, ast.ImportFrom) and _from_library(node):
            yield from (a.name for a in node.names if a.name.startswith("_"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            name = node.attr
            private = name.startswith("_") and not name.startswith("__")
            if private and name not in own and name in _library_private_names():
                yield name


@functools.cache
def _library_private_names() -> frozenset[str]:
    """Every private name that the installed LIBRARIES define (a def, or an assignment to it or
    to ``self.`` it), read from their source."""
    pattern = re.compile(r"(?:\bdef |self\.|^\s*)(_[A-Za-z][A-Za-z0-9_]*)\s*(?:\(|:|=[^=])", re.M)
    names: set[str] = set()
    for library in LIBRARIES:
        for path in Path(resolve(library).__file__).parent.rglob("*.py"):
            names.update(pattern.findall(path.read_text(encoding="utf-8", errors="replace")))
    return frozenset(names)


def test_the_code_uses_exactly_the_listed_private_names_and_only_in_the_runtime_room() -> None:
    listed = {name for _, name in PAIRS if name.startswith("_")}
    used: dict[str, set[str]] = {}
    for path in sorted((ROOT / "workers").rglob("*.py")):
        for name in private_uses(path):
            used.setdefault(name, set()).add(path.relative_to(ROOT).as_posix())
    assert set(used) == listed, {
        "used, not listed": sorted(set(used) - listed),
        "listed, not used": sorted(listed - set(used)),
    }
    for name, where in used.items():
        outside = {p for p in where if not p.startswith("workers/runtime/")}
        assert outside <= OUTSIDE_THE_ROOM.get(name, set()), (name, outside)
