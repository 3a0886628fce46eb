"""``newsflow clean`` and ``newsflow extract``: the stage logic over JSONL, no Kafka.

Both stream line by line (a record is written as soon as it is read) so they work in pipes and
on inputs larger than memory. A line that is not a valid request gets an ``error`` field in its
output line instead of stopping the run.
"""

from __future__ import annotations

import gc
import io
import os
import sys
from collections.abc import Iterator
from typing import IO, Any

import orjson


def _requests(stream: IO[bytes]) -> Iterator[tuple[Any, dict[str, Any] | None, str | None]]:
    for line in stream:
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield None, None, f"invalid JSON: {exc}"
            continue
        if not isinstance(obj, dict):
            yield None, None, "line is not a JSON object"
            continue
        yield obj.get("id"), obj, None


def _write(out: IO[bytes], obj: dict[str, Any]) -> None:
    out.write(orjson.dumps(obj))
    out.write(b"\n")


def run_clean(stdin: IO[bytes] | None = None, stdout: IO[bytes] | None = None) -> int:
    """JSONL ``{"id", "html"|"text"}`` -> JSONL ``{"id", "text", "title", "published_at"}``."""
    from workers.clean import clean_page

    src, out = stdin or sys.stdin.buffer, stdout or sys.stdout.buffer
    for rid, obj, error in _requests(src):
        result: dict[str, Any] = {"id": rid, "text": "", "title": None, "published_at": None}
        if obj is not None:
            html, text = obj.get("html"), obj.get("text")
            if isinstance(html, str):
                page = clean_page(html, "text/html")
            elif isinstance(text, str):
                page = clean_page(text, "text/plain")
            else:
                page, error = None, "needs a string 'html' or 'text' field"
            if page is not None:
                result.update(text=page.text, title=page.title, published_at=page.published_at)
        if error:
            result["error"] = error
        _write(out, result)
        out.flush() if src.isatty() else None
    out.flush()
    return 0


def _line_batches(stream: IO[bytes]) -> Iterator[IO[bytes]]:
    """Whatever complete lines the input has ready, as one in-memory stream per read.

    Why: one write per batch instead of two per record (stdout may be unbuffered, as under
    PYTHONUNBUFFERED=1); and since a read returns what is available, every answer is written
    before the next read can block, so a caller that waits for each answer still gets it.
    """
    read = getattr(stream, "read1", stream.read)
    rest = b""
    while True:
        data = read(1 << 20)
        if not data:
            break
        cut = data.rfind(b"\n") + 1
        if not cut:
            rest += data
            continue
        yield io.BytesIO(rest + data[:cut])
        rest = data[cut:]
    if rest:
        yield io.BytesIO(rest)


_OFF = ("0", "false", "no")


def run_extract(stdin: IO[bytes] | None = None, stdout: IO[bytes] | None = None) -> int:
    """JSONL ``{"id", "text"}`` in -> JSONL ``{"id", "entities": [...]}`` out, each entity
    with its ``key`` and ``canonical`` name (``workers.identity``)."""
    from workers.extract import get_extractor
    from workers.gctune import tune_gc
    from workers.identity import Identity

    rows = get_extractor().rows  # plain tuples: no Mention object per name
    # One alias book for the run: a line's keys use what the lines before it taught (as the
    # worker's book does for the records before it).
    entities = Identity(learn=os.environ.get("NEWSFLOW_LEARN_ALIASES", "1") not in _OFF).entities
    if stdin is None:  # the command's own process (not a caller's, as in tests)
        # The tables and the model stay to the end: out of the collector's way (each full
        # collection walked all of them), and the worker's thresholds for the rest (the alias
        # book grows).
        gc.freeze()
        tune_gc()
    src, out = stdin or sys.stdin.buffer, stdout or sys.stdout.buffer
    dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    for batch in _line_batches(src):
        # Tag every line of the batch, then give keys line by line in order: Sudachi's and the
        # tagger's data stay in the CPU caches through the first loop (interleaving the key
        # step with tagging cost ~10 % more time on short lines); the keys are the same.
        results: list[tuple[dict[str, Any], str | None, list[Any] | None] | None] = []
        for rid, obj, error in _requests(batch):
            result: dict[str, Any] = {"id": rid, "entities": []}
            text, found = None, None
            if obj is not None:
                text = obj.get("text")
                if isinstance(text, str):
                    found = rows(text)
                else:
                    error = "needs a string 'text' field"
            if error:
                result["error"] = error
            results.append((result, text, found))
        lines: list[bytes] = []
        for i, line in enumerate(results):
            assert line is not None
            result, text, found = line
            if found is not None and text is not None:
                result["entities"] = entities(text, found)[0]
            lines.append(dumps(result, option=newline))
            results[i] = None  # its records go now (their memory serves the next line's)
        out.write(b"".join(lines))
        out.flush()
    return 0
