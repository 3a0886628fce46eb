"""Pure counting logic (see the package docstring for the two-step design)."""

from __future__ import annotations

import functools
import time
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

import orjson

# (kind, key, hour, delta[, forms]): kind "e" = entity key "TYPE:name", "t" = entity type
# "TYPE"; forms (entity changes only): {written form: signed count}, how the delta was written.
Change = tuple[Any, ...]
# (partition, offset) of the enriched record a change comes from.
Source = tuple[int, int]
# The changes one enriched record makes to the keys of one partition.
Item = tuple[Source, list[Change]]
# A count-table key: ("e", "TYPE:name") or ("t", "TYPE").
TableKey = tuple[str, str]

#: Changes per mentions message at most (~50 bytes each): far below Kafka's ~1 MB record limit.
MAX_CHANGES_PER_MESSAGE = 5000

DEFAULT_RETENTION_HOURS = 24 * 7


def hour_bucket(epoch_s: float | None) -> str:
    """Tumbling one-hour window (UTC) that a record falls in: ``YYYY-MM-DDTHH``."""
    return time.strftime("%Y-%m-%dT%H", time.gmtime(epoch_s if epoch_s else time.time()))


_MURMUR_M = 0x5BD1E995
_U32 = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 hash (the Java client's ``Utils.murmur2``, seed 0x9747b28c): what its
    default partitioner hashes a record key with."""
    length = len(data)
    h = (0x9747B28C ^ length) & _U32
    end = length - length % 4
    for i in range(0, end, 4):
        k = (int.from_bytes(data[i : i + 4], "little") * _MURMUR_M) & _U32
        k ^= k >> 24
        h = ((h * _MURMUR_M) & _U32) ^ ((k * _MURMUR_M) & _U32)
    tail = length - end
    if tail >= 3:
        h ^= data[end + 2] << 16
    if tail >= 2:
        h ^= data[end + 1] << 8
    if tail >= 1:
        h = ((h ^ data[end]) * _MURMUR_M) & _U32
    h ^= h >> 13
    h = (h * _MURMUR_M) & _U32
    return h ^ (h >> 15)


@functools.lru_cache(maxsize=32_768)
def partition_for(key: str, partitions: int) -> int:
    """Partition of a table key, the same one Kafka's default partitioner (and Faust's table
    router) picks for the orjson-serialized key. Cached: murmur2 in Python is slow next to a
    dict lookup, and the same entity keys come back in article after article."""
    return (murmur2(orjson.dumps(key)) & 0x7FFFFFFF) % partitions


Forms = dict[str, dict[str, int]]  # entity key -> {written form: mentions}


def article_forms(article: dict[str, Any]) -> Forms:
    """How each entity key of an enriched record was written (NFKC of the text), counted: what
    the entity view lists as its aliases. Empty for records without entity keys."""
    out: Forms = {}
    nfkc = unicodedata.normalize
    for e in article.get("entities") or ():
        key = e.get("key")
        if isinstance(key, str) and isinstance(e.get("text"), str):
            forms = out.setdefault(key, {})
            form = nfkc("NFKC", e["text"])
            forms[form] = forms.get(form, 0) + 1
    return out


def _negated(forms: dict[str, int] | None) -> dict[str, int]:
    return {f: -n for f, n in (forms or {}).items()}


def _diff(
    old: dict[str, int],
    old_hour: str,
    new: dict[str, int],
    new_hour: str,
    old_forms: Forms | None = None,
    new_forms: Forms | None = None,
) -> list[Change]:
    changes: list[Change] = []
    type_deltas: dict[tuple[str, str], int] = {}
    old_forms, new_forms = old_forms or {}, new_forms or {}

    def add(key: str, hour: str, delta: int, forms: dict[str, int] | None) -> None:
        changes.append(("e", key, hour, delta, forms) if forms else ("e", key, hour, delta))
        etype = key.partition(":")[0]
        type_deltas[(etype, hour)] = type_deltas.get((etype, hour), 0) + delta

    for key, count in old.items():
        if (
            old_hour != new_hour
            or new.get(key, 0) != count
            or (new_forms.get(key) != old_forms.get(key))
        ):
            add(key, old_hour, -count, _negated(old_forms.get(key)))
    for key, count in new.items():
        if (
            old_hour != new_hour
            or old.get(key, 0) != count
            or (new_forms.get(key) != old_forms.get(key))
        ):
            add(key, new_hour, count, new_forms.get(key))
    changes.extend(("t", etype, hour, d) for (etype, hour), d in type_deltas.items() if d)
    return changes


def plan_article(
    state: dict[str, Any] | None, article: dict[str, Any], source: Source
) -> tuple[dict[str, Any] | None, list[Change]]:
    """(new article state or None to keep it, changes to apply) for one enriched record.

    Rules: same content again -> nothing; new content -> counts move from the old version to the
    new; a replay of the record that made the current state -> the same changes again (the
    per-key offset guard in ``apply_items`` drops those already applied). Each entity change
    carries the forms its mentions were written in (``article_forms``), moved the same way.
    """
    mentions: dict[str, int] = article.get("mentions") or {}
    hour = hour_bucket((article.get("timestamps") or {}).get("produced"))
    if state is not None:
        if state["source"] == list(source):
            return None, _diff(
                state["prev_mentions"], state["prev_hour"], state["mentions"], state["hour"],
                state.get("prev_forms"), state.get("forms"),
            )  # fmt: skip
        if state["source"][0] == source[0] and state["source"][1] > source[1]:
            return None, []  # an older record replayed: the newer state already covers it
        if state["hash"] == article.get("content_hash"):
            return None, []
    forms = article_forms(article)
    prev_mentions = state["mentions"] if state else {}
    prev_forms = state.get("forms", {}) if state else {}
    prev_hour = state["hour"] if state else hour
    new_state = {
        "hash": article.get("content_hash"),
        "mentions": mentions,
        "hour": hour,
        "source": list(source),
        "prev_mentions": prev_mentions,
        "prev_hour": prev_hour,
        "forms": forms,
        "prev_forms": prev_forms,
    }
    return new_state, _diff(prev_mentions, prev_hour, mentions, hour, prev_forms, forms)


def split_by_partition(changes: list[Change], partitions: int) -> dict[int, list[Change]]:
    """Group changes by the partition that owns their key, one message per partition."""
    out: dict[int, list[Change]] = {}
    for change in changes:
        out.setdefault(partition_for(change[1], partitions), []).append(change)
    return out


def _applied(value: dict[str, Any] | None, part: str, offset: int) -> bool:
    return value is not None and value["applied"].get(part, -1) >= offset


def _own_copy(value: dict[str, Any] | None) -> dict[str, Any]:
    """A copy of a table value that may be changed in place (the one read is left alone)."""
    if value is None:
        return {"total": 0, "hours": {}, "applied": {}}
    copy = {"total": value["total"], "hours": dict(value["hours"]),
            "applied": dict(value["applied"])}  # fmt: skip
    if "forms" in value:
        copy["forms"] = dict(value["forms"])
    return copy


def _add_changes(
    value: dict[str, Any], changes: list[Change], part: str, offset: int, retention_hours: int
) -> None:
    """Add one source record's changes of one key to ``value``, in place."""
    hours: dict[str, int] = value["hours"]
    total: int = value["total"]
    for change in changes:
        hour, delta = change[2], change[3]
        total += delta
        count = hours.get(hour, 0) + delta
        if count:
            hours[hour] = count
        else:
            hours.pop(hour, None)
        if len(change) > 4:
            forms: dict[str, int] = value.setdefault("forms", {})
            for form, n in change[4].items():
                left = forms.get(form, 0) + n
                if left:
                    forms[form] = left
                else:
                    forms.pop(form, None)
    value["total"] = total
    if len(hours) > retention_hours:
        for old in sorted(hours)[: len(hours) - retention_hours]:
            del hours[old]
    value["applied"][part] = offset


def group_by_key(changes: list[Change]) -> dict[tuple[str, str], list[Change]]:
    """Changes of one message grouped per (kind, key), so each key is updated once."""
    out: dict[tuple[str, str], list[Change]] = {}
    for change in changes:
        out.setdefault((change[0], change[1]), []).append(change)
    return out


def encode_mentions(items: list[Item]) -> bytes:
    """One mentions message carrying the changes of several records for one partition: each
    keeps its own source, so the per-key offset guard still works per source record."""
    return orjson.dumps({"items": items})


def pack_items(items: list[Item], max_changes: int = MAX_CHANGES_PER_MESSAGE) -> list[list[Item]]:
    """Split ``items`` (in order) into messages of at most ``max_changes`` changes each (a
    single larger item goes alone)."""
    out: list[list[Item]] = [[]]
    size = 0
    for item in items:
        if out[-1] and size + len(item[1]) > max_changes:
            out.append([])
            size = 0
        out[-1].append(item)
        size += len(item[1])
    return out if out[-1] else []


def _change(raw: Any) -> Change:
    if not isinstance(raw, list | tuple) or len(raw) not in (4, 5):
        raise ValueError(f"malformed change {raw!r}")
    kind, key, hour, delta = raw[:4]
    if kind not in ("e", "t") or not isinstance(key, str) or not isinstance(hour, str):
        raise ValueError(f"malformed change {raw!r}")
    if not isinstance(delta, int) or isinstance(delta, bool):
        raise ValueError(f"malformed change {raw!r}")
    if len(raw) == 4:
        return (kind, key, hour, delta)
    forms = raw[4]
    if (
        kind != "e"
        or not isinstance(forms, dict)
        or not all(
            isinstance(f, str) and isinstance(n, int) and not isinstance(n, bool)
            for f, n in forms.items()
        )
    ):
        raise ValueError(f"malformed change {raw!r}")
    return (kind, key, hour, delta, forms)


def decode_mentions(payload: bytes | str) -> list[Item]:
    """The items of a mentions message, validated (so applying them cannot fail half-way);
    also reads the one-record form ``{"source", "changes"}`` written before batching."""
    message = orjson.loads(payload)
    if "items" in message:
        raw_items = message["items"]
    else:
        raw_items = [[message["source"], message["changes"]]]
    items: list[Item] = []
    for raw_source, raw_changes in raw_items:
        source = (int(raw_source[0]), int(raw_source[1]))
        items.append((source, [_change(c) for c in raw_changes]))
    return items


def apply_items(
    get: Callable[[TableKey], dict[str, Any] | None], items: list[Item]
) -> dict[TableKey, dict[str, Any]]:
    """Apply the items of one partition in order, each key read once through ``get`` and
    copied once, then changed in place; returns the keys to write with their final values (one
    write per key instead of one per key per record). A key's value holds the last applied
    offset of every source partition, in the same write as its counts, so a record replayed
    after a crash is dropped per key: never counted twice."""
    dirty: dict[TableKey, dict[str, Any]] = {}
    _apply_into(get, items, {}, dirty)
    return dirty


def apply_in_runs(
    get: Callable[[TableKey], dict[str, Any] | None], items: list[Item], max_changes: int
) -> Iterator[dict[TableKey, dict[str, Any]]]:
    """``apply_items`` over ``items`` in runs of at most ``max_changes`` changes, so a caller
    can pause between runs (a count flush can carry tens of thousands of changes). Yields the
    keys changed so far with their values after each run; the runs share what they read and
    changed, so the last yield equals ``apply_items(get, items)``."""
    values: dict[TableKey, dict[str, Any] | None] = {}
    dirty: dict[TableKey, dict[str, Any]] = {}
    for run in pack_items(items, max_changes):
        _apply_into(get, run, values, dirty)
        yield dirty


def _apply_into(
    get: Callable[[TableKey], dict[str, Any] | None],
    items: list[Item],
    values: dict[TableKey, dict[str, Any] | None],
    dirty: dict[TableKey, dict[str, Any]],
) -> None:
    """Apply ``items`` on top of ``values`` (keys read so far) and ``dirty`` (keys changed so
    far, owned: changed in place), reading other keys through ``get``."""
    for source, changes in items:
        part, offset = str(source[0]), source[1]
        for key, key_changes in group_by_key(changes).items():
            current = values[key] if key in values else get(key)
            if _applied(current, part, offset):
                values[key] = current
                continue
            owned = dirty.get(key)
            if owned is None:
                owned = values[key] = dirty[key] = _own_copy(current)
            _add_changes(owned, key_changes, part, offset, DEFAULT_RETENTION_HOURS)
