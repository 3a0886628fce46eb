"""Pure counting logic (see the package docstring for the two-step design)."""

from __future__ import annotations

import time
from typing import Any

import orjson
from aiokafka.partitioner import murmur2

# (kind, key, hour, delta): kind "e" = entity key "TYPE:name", "t" = entity type "TYPE".
Change = tuple[str, str, str, int]
# (partition, offset) of the enriched record a change comes from.
Source = tuple[int, int]

DEFAULT_RETENTION_HOURS = 24 * 7


def hour_bucket(epoch_s: float | None) -> str:
    """Tumbling one-hour window (UTC) that a record falls in: ``YYYY-MM-DDTHH``."""
    return time.strftime("%Y-%m-%dT%H", time.gmtime(epoch_s if epoch_s else time.time()))


def partition_for(key: str, partitions: int) -> int:
    """Partition of a table key, the same one Kafka's default partitioner (and Faust's table
    router) picks for the orjson-serialized key."""
    return (murmur2(orjson.dumps(key)) & 0x7FFFFFFF) % partitions


def _diff(old: dict[str, int], old_hour: str, new: dict[str, int], new_hour: str) -> list[Change]:
    changes: list[Change] = []
    type_deltas: dict[tuple[str, str], int] = {}

    def add(key: str, hour: str, delta: int) -> None:
        changes.append(("e", key, hour, delta))
        etype = key.partition(":")[0]
        type_deltas[(etype, hour)] = type_deltas.get((etype, hour), 0) + delta

    for key, count in old.items():
        if old_hour != new_hour or new.get(key, 0) != count:
            add(key, old_hour, -count)
    for key, count in new.items():
        if old_hour != new_hour or old.get(key, 0) != count:
            add(key, new_hour, count)
    changes.extend(("t", etype, hour, d) for (etype, hour), d in type_deltas.items() if d)
    return changes


def plan_article(
    state: dict[str, Any] | None, article: dict[str, Any], source: Source
) -> tuple[dict[str, Any] | None, list[Change]]:
    """(new article state or None to keep it, changes to apply) for one enriched record.

    Rules: same content again -> nothing; new content -> counts move from the old version to the
    new; a replay of the record that made the current state -> the same changes again (the
    per-key offset guard in ``apply_changes`` drops those already applied).
    """
    mentions: dict[str, int] = article.get("mentions") or {}
    hour = hour_bucket((article.get("timestamps") or {}).get("produced"))
    if state is not None:
        if state["source"] == list(source):
            return None, _diff(
                state["prev_mentions"], state["prev_hour"], state["mentions"], state["hour"]
            )
        if state["source"][0] == source[0] and state["source"][1] > source[1]:
            return None, []  # an older record replayed: the newer state already covers it
        if state["hash"] == article.get("content_hash"):
            return None, []
    prev_mentions = state["mentions"] if state else {}
    prev_hour = state["hour"] if state else hour
    new_state = {
        "hash": article.get("content_hash"),
        "mentions": mentions,
        "hour": hour,
        "source": list(source),
        "prev_mentions": prev_mentions,
        "prev_hour": prev_hour,
    }
    return new_state, _diff(prev_mentions, prev_hour, mentions, hour)


def split_by_partition(changes: list[Change], partitions: int) -> dict[int, list[Change]]:
    """Group changes by the partition that owns their key, one message per partition."""
    out: dict[int, list[Change]] = {}
    for change in changes:
        out.setdefault(partition_for(change[1], partitions), []).append(change)
    return out


def apply_changes(
    value: dict[str, Any] | None,
    changes: list[Change],
    source: Source,
    retention_hours: int = DEFAULT_RETENTION_HOURS,
) -> dict[str, Any] | None:
    """The table value after all ``changes`` of one key from one source record, or None when
    that record was applied to this key already (a replay)."""
    part, offset = str(source[0]), source[1]
    applied: dict[str, int] = dict(value["applied"]) if value else {}
    if applied.get(part, -1) >= offset:
        return None
    hours: dict[str, int] = dict(value["hours"]) if value else {}
    total = value["total"] if value else 0
    for _, _, hour, delta in changes:
        total += delta
        hours[hour] = hours.get(hour, 0) + delta
        if not hours[hour]:
            del hours[hour]
    if len(hours) > retention_hours:
        for old in sorted(hours)[: len(hours) - retention_hours]:
            del hours[old]
    applied[part] = offset
    return {"total": total, "hours": hours, "applied": applied}


def group_by_key(changes: list[Change]) -> dict[tuple[str, str], list[Change]]:
    """Changes of one message grouped per (kind, key), so each key is updated once."""
    out: dict[tuple[str, str], list[Change]] = {}
    for change in changes:
        out.setdefault((change[0], change[1]), []).append(change)
    return out
