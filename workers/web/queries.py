"""Answers for the HTTP API computed from table items. Plain Python, no web framework."""

from __future__ import annotations

import heapq
import re
import time
from collections.abc import Callable, Iterable
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


# --- one row per entity: count keys merged through the alias book at read time ---------------
#
# A count key is the key an entity had when its mentions were counted; the alias book may
# since have learned that it names another entity (高市 counted before 高市早苗 was seen). The
# views resolve every count key through the book now (``root``): a key whose root is itself is
# "own", one whose root is another key is "moved" and adds to that root. Every key goes to
# exactly one root, so the merged counts hold every mention once (docs/entity-identity.md).

Item = tuple[str, dict[str, Any]]
Root = Callable[[str], str]


def _self(key: str) -> str:
    return key


def split_moved(items: Iterable[Item], root: Root) -> tuple[list[Item], dict[str, list[Item]]]:
    """(own items, root -> moved items) of a table's items."""
    own: list[Item] = []
    moved: dict[str, list[Item]] = {}
    for key, value in items:
        if not value:
            continue
        r = root(key)
        if r == key:
            own.append((key, value))
        else:
            moved.setdefault(r, []).append((key, value))
    return own, moved


def merge_values(values: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """One value (total, hours, forms) summed over several keys' values."""
    total = 0
    hours: dict[str, int] = {}
    forms: dict[str, int] = {}
    for value in values:
        total += int(value.get("total", 0))
        for h, n in value.get("hours", {}).items():
            hours[h] = hours.get(h, 0) + int(n)
        for f, n in (value.get("forms") or {}).items():
            forms[f] = forms.get(f, 0) + int(n)
    return {"total": total, "hours": {h: n for h, n in hours.items() if n}, "forms": forms}


def _row(key: str, count: int, own: int | None, members: list[str]) -> dict[str, Any]:
    """A top row; ``own`` is None when this worker holds no count key of that name."""
    etype, name = split_key(key)
    return {"key": key, "type": etype, "name": name, "count": count, "own": own,
            "aliases": [split_key(m)[1] for m in members]}  # fmt: skip


def top_entities(
    items: Iterable[Item],
    *,
    entity_type: str | None = None,
    limit: int = 20,
    window: str | None = None,
    now: float | None = None,
    root: Root = _self,
) -> list[dict[str, Any]]:
    """The ``limit`` most mentioned entities, optionally of one type and within a window: one
    row per root, its ``count`` the own key's plus every moved key's (``own``: the own key's
    alone; ``aliases``: the names of the moved keys)."""
    rows, _ = top_and_moved(items, entity_type=entity_type, limit=limit, window=window,
                            now=now, root=root)  # fmt: skip
    return rows


def top_and_moved(
    items: Iterable[Item],
    *,
    entity_type: str | None = None,
    limit: int = 20,
    window: str | None = None,
    now: float | None = None,
    root: Root = _self,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """``top_entities`` and the moved keys' counts per root (all of them, not only the top:
    what another worker needs to merge exactly, see runtime.views.TopEntities)."""
    n = window_hours(window)
    hours = hours_back(n, now) if n else None
    prefix = f"{entity_type.upper()}:" if entity_type else None
    own, moved = split_moved(items, root)
    moved_counts: dict[str, int] = {}
    members: dict[str, list[str]] = {}
    for r, group in moved.items():
        if prefix and not r.startswith(prefix):
            continue
        c = sum(count_in_window(v, hours) for _, v in group)
        if c:
            moved_counts[r] = c
            members[r] = [k for k, _ in group]
    counts: dict[str, tuple[int, int | None]] = {}  # root -> (count, own)
    for key, value in own:
        if prefix and not key.startswith(prefix):
            continue
        c = count_in_window(value, hours)
        if c or key in moved_counts:
            counts[key] = (c + moved_counts.get(key, 0), c)
    for r, c in moved_counts.items():
        if r not in counts:
            counts[r] = (c, None)
    best = heapq.nsmallest(limit, counts.items(), key=lambda kv: (-kv[1][0], kv[0]))
    rows = [_row(k, c, o, members.get(k, [])) for k, (c, o) in best if c > 0]
    return rows, moved_counts


def merge_top(
    answers: list[dict[str, Any]], own_of: dict[str, int], limit: int
) -> list[dict[str, Any]]:
    """Top rows over several workers' answers (each ``{"entities": rows, "moved": {root: n}}``):
    a root's count is its own key's count (in the one row of the worker owning it, or
    ``own_of`` when no list held it) plus every worker's moved count for it."""
    rows: dict[str, dict[str, Any]] = {}
    own: dict[str, int] = dict(own_of)
    moved: dict[str, int] = {}
    aliases: dict[str, set[str]] = {}
    for answer in answers:
        for row in answer.get("entities", []):
            key = row["key"]
            rows.setdefault(key, row)
            own[key] = max(own.get(key, 0), int(row.get("own") or 0))
            aliases.setdefault(key, set()).update(row.get("aliases", []))
        for key, n in answer.get("moved", {}).items():
            moved[key] = moved.get(key, 0) + int(n)
    out: list[dict[str, Any]] = []
    for key in set(rows) | set(moved):
        etype, name = split_key(key)
        count = own.get(key, 0) + moved.get(key, 0)
        if count > 0:
            out.append({"key": key, "type": etype, "name": name, "count": count,
                        "aliases": sorted(aliases.get(key, ()))})  # fmt: skip
    out.sort(key=lambda r: (-r["count"], r["key"]))
    return out[:limit]


def merge_by_type(answers: list[dict[str, Any]]) -> dict[str, int]:
    """Mentions per entity type, summed over several workers' answers (``by_type``)."""
    by_type: dict[str, int] = {}
    for answer in answers:
        for etype, total in answer.get("by_type", {}).items():
            by_type[etype] = by_type.get(etype, 0) + int(total)
    return by_type


def cluster_fields(answers: list[dict[str, Any]], partitions_total: int) -> dict[str, Any]:
    """What an answer gathered from several workers says about them: the partitions it covers
    (of the workers that answered), whether every worker answered, and each one's status.
    ``answers``: one ``{"url", "partitions", "ok"[, "error"]}`` per worker."""
    return {
        "partitions": sorted({p for a in answers if a["ok"] for p in a["partitions"]}),
        "partitions_total": partitions_total,
        "complete": all(a["ok"] for a in answers),
        "workers": [
            {k: a[k] for k in ("url", "partitions", "ok", "error") if k in a} for a in answers
        ],
    }


def missing_own(answers: list[dict[str, Any]]) -> list[str]:
    """Roots with moved counts whose own key's count no answer holds (ask its owner): a row
    holds it when it comes from the worker that has the key (``own`` is not None)."""
    held = {
        row["key"]
        for a in answers
        for row in a.get("entities", [])
        if row.get("own") is not None or row.get("own_series") is not None
    }
    moved = {k for a in answers for k in a.get("moved", {})}
    return sorted(moved - held)


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
    key: str,
    value: dict[str, Any] | None,
    now: float | None = None,
    points: int = 24,
    members: list[tuple[str, int]] | None = None,
    names: list[str] | None = None,
) -> dict[str, Any] | None:
    """``/api/entities/{key}``: total, the last ``points`` hours and every retained hour, of
    the entity ``key`` (its value merged over its count keys); ``members``: (count key, total)
    of each, ``names``: every name known for it. ``aliases``: the written forms counted, with
    their counts, most frequent first."""
    if not value or not value.get("total"):
        return None
    hours = hours_back(points, now)
    etype, name = split_key(key)
    kept = value.get("hours", {})
    forms = value.get("forms") or {}
    return {
        "key": key,
        "type": etype,
        "name": name,
        "canonical": name,
        "total": int(value.get("total", 0)),
        "last_hours": [{"hour": h, "count": int(kept.get(h, 0))} for h in reversed(hours)],
        "hours": {h: int(kept[h]) for h in sorted(kept)},
        "aliases": [
            {"name": f, "count": int(n)}
            for f, n in sorted(forms.items(), key=lambda kv: (-kv[1], kv[0]))
            if n
        ],
        "keys": [{"key": k, "count": int(n)} for k, n in (members or [(key, value["total"])])],
        "names": names or [name],
    }


def trending(
    items: Iterable[Item],
    *,
    limit: int = 10,
    entity_type: str | None = None,
    now: float | None = None,
    points: int = 24,
    root: Root = _self,
) -> list[dict[str, Any]]:
    """Entities whose mentions grew most in the current hour against the hour before.

    Ranked by the absolute growth (then by this hour's count), so one mention more of a rare
    name does not outrank fifty more of a common one; ``series`` is the last ``points`` hours.
    One row per root (its count keys' hours summed).
    """
    rows, _ = trending_and_moved(items, limit=limit, entity_type=entity_type, now=now,
                                 points=points, root=root)  # fmt: skip
    return rows


def trending_and_moved(
    items: Iterable[Item],
    *,
    limit: int = 10,
    entity_type: str | None = None,
    now: float | None = None,
    points: int = 24,
    root: Root = _self,
) -> tuple[list[dict[str, Any]], dict[str, list[int]]]:
    """``trending`` and the moved keys' series per root (every root that has any). Two hour
    lookups per key; the series are built for the rows shown only."""
    hours = hours_back(points, now)
    current, previous = hours[0], hours[1]
    prefix = f"{entity_type.upper()}:" if entity_type else None
    own, moved = split_moved(items, root)
    moved_series: dict[str, list[int]] = {}
    for r, group in moved.items():
        if prefix and not r.startswith(prefix):
            continue
        series = hourly_series(merge_values(v for _, v in group), hours)
        if any(series):
            moved_series[r] = series
    scored: list[tuple[int, int, str, dict[str, Any] | None]] = []
    seen: set[str] = set()
    for key, value in own:
        if prefix and not key.startswith(prefix):
            continue
        counts = value.get("hours", {})
        cur, prev = int(counts.get(current, 0)), int(counts.get(previous, 0))
        extra = moved_series.get(key)
        if extra is not None:
            seen.add(key)
            cur, prev = cur + extra[-1], prev + extra[-2]
        if cur > prev:
            scored.append((cur - prev, cur, key, value))
    for r, extra in moved_series.items():
        if r not in seen and extra[-1] > extra[-2]:
            scored.append((extra[-1] - extra[-2], extra[-1], r, None))
    best = heapq.nsmallest(limit, scored, key=lambda r: (-r[0], -r[1], r[2]))
    rows = []
    for growth, cur, key, held in best:
        own_series = hourly_series(held, hours) if held is not None else None
        extra = moved_series.get(key) or [0] * points
        series = [a + b for a, b in zip(own_series or [0] * points, extra, strict=True)]
        etype, name = split_key(key)
        rows.append({"key": key, "type": etype, "name": name, "current": cur,
                     "previous": cur - growth, "growth": growth, "series": series,
                     "own_series": own_series})  # fmt: skip
    return rows, moved_series


def _trending_rows(series: dict[str, list[int]], limit: int) -> list[dict[str, Any]]:
    scored = []
    for key, s in series.items():
        cur, prev = s[-1], s[-2]
        if cur > prev:
            scored.append((cur - prev, cur, key, s))
    best = heapq.nsmallest(limit, scored, key=lambda r: (-r[0], -r[1], r[2]))
    return [
        {
            "key": key,
            "type": split_key(key)[0],
            "name": split_key(key)[1],
            "current": cur,
            "previous": cur - growth,
            "growth": growth,
            "series": s,
        }
        for growth, cur, key, s in best
    ]


def merge_trending(
    answers: list[dict[str, Any]], own_of: dict[str, list[int]], limit: int, points: int = 24
) -> list[dict[str, Any]]:
    """Trending rows over several workers' answers, merged as ``merge_top`` does."""
    own: dict[str, list[int]] = dict(own_of)
    moved: dict[str, list[int]] = {}
    for answer in answers:
        for row in answer.get("entities", []):
            # only the worker holding the key has its own series
            mine = row.get("own_series") or [0] * points
            base = own.get(row["key"]) or [0] * points
            own[row["key"]] = [max(x, y) for x, y in zip(base, mine, strict=True)]
        for key, s in answer.get("moved", {}).items():
            base = moved.get(key) or [0] * points
            moved[key] = [x + y for x, y in zip(base, s, strict=True)]
    series = {}
    for key in set(own) | set(moved):
        a = own.get(key) or [0] * points
        b = moved.get(key) or [0] * points
        series[key] = [x + y for x, y in zip(a, b, strict=True)]
    return _trending_rows(series, limit)
