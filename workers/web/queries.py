"""Answers for the HTTP API computed from table items. Plain Python, no web framework."""

from __future__ import annotations

import heapq
import re
import time
from collections.abc import Iterable
from typing import Any

_WINDOW = re.compile(r"^(\d+)([hd])$")


class QueryError(ValueError):
    """A bad query parameter: the API answers 400 with this message."""


def window_hours(window: str | None) -> int | None:
    """``1h``/``24h``/``7d`` -> hours; ``all`` or empty -> None (all time)."""
    if not window or window == "all":
        return None
    match = _WINDOW.match(window)
    if not match:
        raise QueryError(f"window must be like 1h, 24h, 7d or all, not {window!r}")
    n = int(match.group(1)) * (24 if match.group(2) == "d" else 1)
    if not 1 <= n <= 24 * 366:
        raise QueryError("window out of range")
    return n


def hours_back(n: int, now: float | None = None) -> list[str]:
    """The last ``n`` hour buckets, newest first (same format as ``count.hour_bucket``)."""
    now = time.time() if now is None else now
    return [time.strftime("%Y-%m-%dT%H", time.gmtime(now - 3600 * i)) for i in range(n)]


def count_in_window(value: dict[str, Any], hours: list[str] | None) -> int:
    if hours is None:
        return int(value.get("total", 0))
    counts = value.get("hours", {})
    return sum(counts.get(h, 0) for h in hours)


def split_key(key: str) -> tuple[str, str]:
    etype, _, name = key.partition(":")
    return etype, name


def top_entities(
    items: Iterable[tuple[str, dict[str, Any]]],
    *,
    entity_type: str | None = None,
    limit: int = 20,
    window: str | None = None,
    now: float | None = None,
) -> list[dict[str, Any]]:
    """The ``limit`` most mentioned entities, optionally of one type and within a window."""
    n = window_hours(window)
    hours = hours_back(n, now) if n else None
    prefix = f"{entity_type.upper()}:" if entity_type else None
    rows = []
    for key, value in items:
        if value is None or (prefix and not key.startswith(prefix)):
            continue
        count = count_in_window(value, hours)
        if count > 0:
            rows.append((count, key))
    best = heapq.nlargest(limit, rows, key=lambda r: (r[0], r[1]))
    return [
        {"key": key, "type": split_key(key)[0], "name": split_key(key)[1], "count": count}
        for count, key in best
    ]


def parse_limit(raw: str | None, default: int = 20, maximum: int = 1000) -> int:
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"limit must be an integer, not {raw!r}") from None
    if not 1 <= value <= maximum:
        raise QueryError(f"limit must be between 1 and {maximum}")
    return value


def hourly_series(value: dict[str, Any] | None, hours_newest_first: list[str]) -> list[int]:
    """Counts for the given hour buckets, oldest first (for sparklines)."""
    counts = (value or {}).get("hours", {})
    return [int(counts.get(h, 0)) for h in reversed(hours_newest_first)]


def entity_detail(
    key: str, value: dict[str, Any] | None, now: float | None = None, points: int = 24
) -> dict[str, Any] | None:
    """``/api/entities/{key}``: total, the last ``points`` hours and every retained hour."""
    if not value:
        return None
    hours = hours_back(points, now)
    etype, name = split_key(key)
    kept = value.get("hours", {})
    return {
        "key": key,
        "type": etype,
        "name": name,
        "total": int(value.get("total", 0)),
        "last_hours": [{"hour": h, "count": int(kept.get(h, 0))} for h in reversed(hours)],
        "hours": {h: int(kept[h]) for h in sorted(kept)},
    }


def trending(
    items: Iterable[tuple[str, dict[str, Any]]],
    *,
    limit: int = 10,
    entity_type: str | None = None,
    now: float | None = None,
    points: int = 24,
) -> list[dict[str, Any]]:
    """Entities whose mentions grew most in the current hour against the hour before.

    Ranked by the absolute growth (then by this hour's count), so one mention more of a rare
    name does not outrank fifty more of a common one; ``series`` is the last ``points`` hours.
    """
    hours = hours_back(points, now)
    current, previous = hours[0], hours[1]
    prefix = f"{entity_type.upper()}:" if entity_type else None
    scored = []
    for key, value in items:
        if not value or (prefix and not key.startswith(prefix)):
            continue
        counts = value.get("hours", {})
        cur, prev = int(counts.get(current, 0)), int(counts.get(previous, 0))
        if cur <= prev:
            continue
        scored.append((cur - prev, cur, key, value))
    best = heapq.nlargest(limit, scored, key=lambda r: (r[0], r[1], r[2]))
    return [
        {
            "key": key,
            "type": split_key(key)[0],
            "name": split_key(key)[1],
            "current": cur,
            "previous": cur - growth,
            "growth": growth,
            "series": hourly_series(value, hours),
        }
        for growth, cur, key, value in best
    ]
