"""``newsflow top``: the top-entities table in a terminal, read from a worker's HTTP API."""

from __future__ import annotations

import sys
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, TextIO

import orjson


def width(text: str) -> int:
    """Terminal columns of ``text``: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, columns: int, right: bool = False) -> str:
    gap = " " * max(0, columns - width(text))
    return gap + text if right else text + gap


def fetch_top(url: str, entity_type: str | None, limit: int, window: str | None) -> Any:
    query = {"limit": str(limit)}
    if entity_type:
        query["type"] = entity_type
    if window:
        query["window"] = window
    full = f"{url.rstrip('/')}/api/entities/top?{urllib.parse.urlencode(query)}"
    with urllib.request.urlopen(full, timeout=10) as resp:
        return orjson.loads(resp.read())


def render(body: dict[str, Any]) -> str:
    """The table, aligned for CJK names, with a line saying which partitions it covers."""
    rows = [
        (str(i), r["type"], r["name"], f"{r['count']:,}")
        for i, r in enumerate(body.get("entities", []), 1)
    ]
    head = ("#", "TYPE", "ENTITY", "MENTIONS")
    widths = [max(width(row[c]) for row in [head, *rows]) for c in range(4)]
    lines = []
    for row in [head, *rows]:
        cells = [
            pad(row[0], widths[0], right=True),
            pad(row[1], widths[1]),
            pad(row[2], widths[2]),
            pad(row[3], widths[3], right=True),
        ]
        lines.append("  ".join(cells).rstrip())
    if not rows:
        lines.append("(no entities counted yet)")
    parts = body.get("partitions")
    if parts is not None:
        workers = body.get("workers", [])
        note = (
            f"window {body.get('window', 'all')} · partitions {', '.join(map(str, parts))}"
            f" of {body.get('partitions_total', '?')} · {len(workers)} worker(s)"
        )
        down = [w["url"] for w in workers if not w.get("ok", True)]
        if down:
            note += " · NOT ANSWERING: " + ", ".join(down)
        lines.append(note)
    return "\n".join(lines)


def run(
    url: str,
    entity_type: str | None,
    limit: int,
    window: str | None,
    out: TextIO = sys.stdout,
    origin: str | None = None,
) -> int:
    """Print the table; on failure one line on stderr and a non-zero status.

    ``origin`` says where ``url`` came from (``--url``, a running ``newsflow up``, ...).
    """
    try:
        body = fetch_top(url, entity_type, limit, window)
    except urllib.error.HTTPError as err:
        detail = err.read().decode("utf-8", "replace")
        print(f"newsflow top: {url} answered {err.code}: {detail}", file=sys.stderr)
        return 2
    except OSError as err:
        where = f"{url} ({origin})" if origin else url
        print(
            f"newsflow top: no worker answers at {where}: {getattr(err, 'reason', err)}; "
            "start one with `newsflow up`, or name yours with --url",
            file=sys.stderr,
        )
        return 1
    print(render(body), file=out)
    return 0
