"""The count stage's batch class (``workers.count.batch.CountBatch``, what the agents call):
batched counting (one mentions message per partition and batch, each key written once per
flush) gives exactly the counts of record-by-record counting, replays included."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import orjson
import pytest

from tests.helpers.stage_doubles import CountTables, event
from workers.count import plan_article
from workers.count.mentions import (
    Item,
    apply_in_runs,
    apply_items,
    decode_mentions,
    encode_mentions,
    pack_items,
)

T0 = 1_718_850_000.0


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
async def test_batches_with_replays_match_record_by_record(seed: int) -> None:
    stream = _stream(300, seed)
    once = CountTables()
    for offset, art in enumerate(stream):
        await once.count_batch([(art, offset)])
    rng = random.Random(seed)
    batched = CountTables(changes_per_message=7)  # small: several messages per batch
    committed = 0
    while committed < len(stream):
        crash_at = min(len(stream), committed + rng.randint(1, 60))
        pos = committed
        while pos < crash_at:  # batches of random size up to the crash
            size = rng.randint(1, 20)
            await batched.count_batch(
                [(stream[o], o) for o in range(pos, min(crash_at, pos + size))]
            )
            pos += size
        committed = rng.randint(committed, crash_at)
    assert batched.totals() == once.totals()
    assert batched.type_totals() == once.type_totals()
    assert batched.totals()  # the stream really counted something
    assert batched.messages > once.messages / 4  # really several messages per batch
    assert not batched.dead.sent


async def test_a_record_that_cannot_be_counted_is_dead_lettered_and_the_rest_counted() -> None:
    tables = CountTables()
    good = {"id": "a", "content_hash": "h", "mentions": {"PERSON:x": 2}}
    await tables.batch.plan([event(b"{not json", offset=0), event(good, offset=1)])
    assert [orjson.loads(v)["error_class"] for _, v in tables.dead.sent] == ["stage_error"]
    assert tables.stats.records_in["count"] == 2 and tables.stats.records_out["count"] == 1
    assert tables.articles["a"]["source"] == [0, 1]


async def test_changes_the_broker_refuses_dead_letter_their_records_and_keep_the_states() -> None:
    """The article states guard changes sent: none is written unless its changes were."""
    tables = CountTables()

    async def refuse(topic: Any, records: Any, what: str) -> None:
        raise RuntimeError("refused")

    tables.batch.send_all = refuse
    arts = [{"id": i, "content_hash": "h", "mentions": {"PERSON:x": 1}} for i in "ab"]
    await tables.batch.plan([event(art, offset=o) for o, art in enumerate(arts)])
    assert len(tables.dead.sent) == 2
    assert tables.articles == {}


async def test_a_flush_waits_for_the_producer_between_runs_of_writes() -> None:
    from workers.count import batch

    tables = CountTables(partitions=1)  # every key written in one partition's flush
    waiting = [10_000]
    checks: list[int] = []

    def backlog() -> int:
        checks.append(waiting[0])
        waiting[0] //= 8  # the producer drains
        return waiting[0]

    tables.batch.backlog = backlog
    mentions = {f"PERSON:p{i}": 1 for i in range(batch.WRITES_PER_YIELD * 2)}
    await tables.count_batch([({"id": "a", "content_hash": "h", "mentions": mentions}, 0)])
    assert len(tables.entities) == len(mentions)
    assert checks  # it asked; and went on once the backlog was under half a run
    assert waiting[0] <= batch.WRITES_PER_YIELD // 2


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
async def test_a_flush_applied_in_runs_equals_one_apply(seed: int) -> None:
    """The apply agent pauses between runs of a flush; what it writes must not depend on that."""
    stream = _stream(200, seed)
    tables = CountTables()
    await tables.count_batch([(art, o) for o, art in enumerate(stream[:50])])  # keys stored
    items: list[Item] = []
    for offset, art in enumerate(stream):
        _, changes = plan_article(None, art, (0, offset))
        items.append(((0, offset), changes))
    items += items[10:40]  # a replay inside the flush: applied once
    stored = {("e", k): v for k, v in tables.entities.items()}
    stored.update({("t", k): v for k, v in tables.types.items()})
    whole = apply_items(stored.get, items)
    runs = list(apply_in_runs(stored.get, items, max_changes=7))
    assert len(runs) > 10  # really in runs
    assert runs[-1] == whole
    assert whole  # something changed


def test_changes_with_forms_round_trip_and_bad_forms_are_refused() -> None:
    items: list[Item] = [((0, 1), [("e", "PERSON:a", "2025-01-01T00", 2, {"a": 1, "A": 1})])]
    assert decode_mentions(encode_mentions(items)) == items
    for bad in (["t", "PERSON", "h", 1, {"a": 1}], ["e", "PERSON:a", "h", 1, {"a": "1"}]):
        with pytest.raises(ValueError):
            decode_mentions(orjson.dumps({"items": [[[0, 1], [bad]]]}))
