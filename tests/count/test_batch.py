"""Batched counting (one mentions message per partition and batch, each key written once per
batch) gives exactly the counts of record-by-record counting, replays included."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import orjson
import pytest

from workers.count import plan_article, split_by_partition
from workers.count.mentions import (
    Item,
    TableKey,
    apply_in_runs,
    apply_items,
    decode_mentions,
    encode_mentions,
    pack_items,
)

T0 = 1_718_850_000.0


class BatchTables:
    """Dict-backed stand-in driven like the batched agents."""

    def __init__(self) -> None:
        self.articles: dict[str, Any] = {}
        self.keys: dict[TableKey, Any] = {}

    def count_batch(self, batch: list[tuple[dict[str, Any], int]]) -> None:
        known: dict[str, Any] = {}
        out: dict[int, list[Item]] = {}
        for art, offset in batch:
            if art["id"] not in known:
                known[art["id"]] = self.articles.get(art["id"])
            state, changes = plan_article(known[art["id"]], art, (0, offset))
            for part, part_changes in split_by_partition(changes, 4).items():
                out.setdefault(part, []).append(((0, offset), part_changes))
            if state is not None:
                known[art["id"]] = state
        for items in out.values():
            for chunk in pack_items(items, max_changes=7):  # small: several messages per batch
                decoded = decode_mentions(encode_mentions(chunk))
                self.keys.update(apply_items(self.keys.get, decoded))
        self.articles.update({k: v for k, v in known.items() if v is not None})

    def totals(self) -> dict[TableKey, int]:
        return {k: v["total"] for k, v in self.keys.items() if v["total"]}


def _stream(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    names = [f"PERSON:p{i}" for i in range(6)] + [f"LOCATION:l{i}" for i in range(6)]
    out = []
    for offset in range(n):
        mentions = Counter(rng.choice(names) for _ in range(rng.randint(0, 5)))
        out.append({
            "id": f"a{rng.randint(0, 9)}", "content_hash": f"h{rng.randint(0, 3)}",
            "mentions": dict(mentions), "timestamps": {"produced": T0 + 600 * offset},
        })  # fmt: skip
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_batches_with_replays_match_record_by_record(seed: int) -> None:
    stream = _stream(300, seed)
    once = BatchTables()
    for offset, art in enumerate(stream):
        once.count_batch([(art, offset)])
    rng = random.Random(seed)
    batched = BatchTables()
    committed = 0
    while committed < len(stream):
        crash_at = min(len(stream), committed + rng.randint(1, 60))
        pos = committed
        while pos < crash_at:  # batches of random size up to the crash
            size = rng.randint(1, 20)
            batched.count_batch([(stream[o], o) for o in range(pos, min(crash_at, pos + size))])
            pos += size
        committed = rng.randint(committed, crash_at)
    assert batched.totals() == once.totals()
    assert batched.totals()  # the stream really counted something


def test_old_one_record_messages_are_still_read() -> None:
    payload = orjson.dumps({"article_id": "a", "source": [1, 5], "changes": [["e", "P:x", "h", 2]]})
    assert decode_mentions(payload) == [((1, 5), [("e", "P:x", "h", 2)])]


@pytest.mark.parametrize(
    "change", [["x", "P:x", "h", 1], ["e", "P:x", "h", "1"], ["e", 3, "h", 1], ["e", "P:x", "h"]]
)
def test_malformed_changes_are_refused_before_anything_is_applied(change: list[Any]) -> None:
    with pytest.raises((ValueError, TypeError)):
        decode_mentions(encode_mentions([((0, 1), [("e", "P:y", "h", 1), change])]))  # type: ignore[list-item]


def test_pack_items_keeps_order_and_bounds_message_size() -> None:
    items: list[Item] = [((0, i), [("e", "k", "h", 1)] * (i % 4 + 1)) for i in range(20)]
    packed = pack_items(items, max_changes=5)
    assert [it for chunk in packed for it in chunk] == items
    assert all(sum(len(c) for _, c in chunk) <= 5 for chunk in packed)
    assert pack_items([]) == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_flush_applied_in_runs_equals_one_apply(seed: int) -> None:
    """The apply agent pauses between runs of a flush; what it writes must not depend on that."""
    stream = _stream(200, seed)
    tables = BatchTables()
    tables.count_batch([(art, o) for o, art in enumerate(stream[:50])])  # keys already stored
    items: list[Item] = []
    for offset, art in enumerate(stream):
        _, changes = plan_article(None, art, (0, offset))
        items.append(((0, offset), changes))
    items += items[10:40]  # a replay inside the flush: applied once
    whole = apply_items(tables.keys.get, items)
    runs = list(apply_in_runs(tables.keys.get, items, max_changes=7))
    assert len(runs) > 10  # really in runs
    assert runs[-1] == whole
    assert whole  # something changed


def test_changes_with_forms_round_trip_and_bad_forms_are_refused() -> None:
    items: list[Item] = [((0, 1), [("e", "PERSON:a", "2025-01-01T00", 2, {"a": 1, "A": 1})])]
    assert decode_mentions(encode_mentions(items)) == items
    for bad in (["t", "PERSON", "h", 1, {"a": 1}], ["e", "PERSON:a", "h", 1, {"a": "1"}]):
        with pytest.raises(ValueError):
            decode_mentions(orjson.dumps({"items": [[[0, 1], [bad]]]}))
