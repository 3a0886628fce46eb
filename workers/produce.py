"""``newsflow produce``: send pages from files to the raw topic, like a crawler would.

Accepts JSONL (one raw article per line; ``{"id","html"|"text"}`` lines of the offline contract
work too), ``.html``/``.htm`` and ``.txt`` files, WARC archives (``.warc``, ``.warc.gz``:
``workers/clients/warc.py``), and folders of them. Pages go out through ``RawProducer``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from workers.clients.warc import WarcReader, is_warc

PAGE_SUFFIXES = {".html": "text/html", ".htm": "text/html", ".txt": "text/plain"}


def _from_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            obj = orjson.loads(line)
            if "body" not in obj:  # offline-contract lines: {"id", "html"|"text"}
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
    paths: Iterable[str | Path], warc: WarcReader | None = None
) -> Iterator[dict[str, Any]]:
    """Raw-article dicts from files and folders, in a stable order. WARC files are read by
    ``warc`` (pass one to see its skip counts afterwards)."""
    warc = warc or WarcReader()
    for item in paths:
        path = Path(item)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            suffix = file.suffix.lower()
            if is_warc(file):
                yield from warc.pages(file)
            elif suffix == ".jsonl":
                yield from _from_jsonl(file)
            elif suffix in PAGE_SUFFIXES:
                yield _from_page(file)


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
