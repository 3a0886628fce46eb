"""``newsflow produce``: send pages from files to the raw topic, like a crawler would.

Accepts JSONL (one raw article per line; ``{"id","html"|"text"}`` lines of the offline contract
work too), ``.html``/``.htm`` and ``.txt`` files, WARC archives (``.warc``, ``.warc.gz``:
``workers/clients/warc.py``), and folders of them. Pages go out through ``RawProducer``.
Records are sent as given: one that breaks the raw-article contract (no ``body``, say) is the
worker's to dead-letter with the reason. A line that is not a JSON object, or a path that
cannot be read, is reported as ``FILE:LINE: reason`` and skipped; the rest is sent.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from workers.clients.warc import WarcReader, is_warc

PAGE_SUFFIXES = {".html": "text/html", ".htm": "text/html", ".txt": "text/plain"}

#: Called with (where, reason) for input that cannot be sent; where is ``FILE:LINE`` or ``FILE``.
OnProblem = Callable[[str, str], None]


class BadInput(ValueError):
    """Input that cannot be sent (raised when no ``on_problem`` callback is given)."""


def _raise(where: str, reason: str) -> None:
    raise BadInput(f"{where}: {reason}")


def _from_jsonl(path: Path, on_problem: OnProblem = _raise) -> Iterator[dict[str, Any]]:
    with path.open("rb") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                on_problem(f"{path}:{n}", f"not valid JSON ({exc.msg} at column {exc.colno})")
                continue
            if not isinstance(obj, dict):
                on_problem(f"{path}:{n}", f"a JSON {type(obj).__name__}, not an object")
                continue
            if "body" not in obj and ("html" in obj or "text" in obj):  # offline contract
                body = obj.get("html") if obj.get("html") is not None else obj.get("text")
                kind = "text/html" if obj.get("html") is not None else "text/plain"
                obj = {
                    "id": str(obj.get("id", f"{path.stem}-{n}")),
                    "url": obj.get("url") or f"file://{path.resolve()}#{n}",
                    "body": body,
                    "content_type": kind,
                }
            yield obj


def _from_page(path: Path) -> dict[str, Any]:
    return {
        "url": f"file://{path.resolve()}",
        "body": path.read_text(encoding="utf-8", errors="replace"),
        "content_type": PAGE_SUFFIXES[path.suffix.lower()],
        "source": "newsflow-produce",
    }


def iter_pages(
    paths: Iterable[str | Path], on_problem: OnProblem = _raise, warc: WarcReader | None = None
) -> Iterator[dict[str, Any]]:
    """Raw-article dicts from files and folders, in a stable order. WARC files are read by
    ``warc`` (pass one to see its skip counts afterwards).

    Input that cannot be sent goes to ``on_problem(where, reason)`` and is skipped (by default
    it raises :class:`BadInput`). In folders, files of other kinds are passed over quietly.
    """
    warc = warc or WarcReader()
    for item in paths:
        path = Path(item)
        if not path.exists():
            on_problem(str(path), "no such file or folder")
            continue
        named = not path.is_dir()
        files = [path] if named else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            suffix = file.suffix.lower()
            try:
                if is_warc(file):
                    yield from warc.pages(file)
                elif suffix == ".jsonl":
                    yield from _from_jsonl(file, on_problem)
                elif suffix in PAGE_SUFFIXES:
                    yield _from_page(file)
                elif named:
                    on_problem(str(file), "not a .jsonl, .html, .htm, .txt or WARC file")
            except OSError as exc:
                on_problem(str(file), f"cannot read it: {exc.strerror or exc}")


async def produce_pages(
    bootstrap: str,
    topic: str,
    pages: Iterable[dict[str, Any]],
    progress: bool = True,
    client_options: dict[str, Any] | None = None,
) -> int:
    """Send pages (keyed by id, else URL) and wait for every acknowledgement; return the count."""
    from tqdm import tqdm

    from workers.clients.producer import RawProducer

    async with RawProducer(bootstrap, topic, client_options=client_options) as producer:
        with tqdm(unit="page", disable=not progress, file=sys.stderr) as bar:
            for page in pages:
                await producer.send(page)
                bar.update()
    return producer.acked
