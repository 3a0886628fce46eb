"""One batch of the count stage, in its two steps (see the package docstring), without Kafka.

``CountBatch.plan`` (the ``newsflow.count`` agent): enriched records -> the signed mention
changes of each, sent as one mentions message per key partition and batch (not one per article
and partition); the article states are written only once those messages are acknowledged.

``CountBatch.apply`` (the ``newsflow.count-apply`` agent, once per flush): mentions messages ->
each changed key read and written once per partition and flush (not once per article), the
writes being where the count stage spends its time (a rocksdb put and a changelog record each).
The flush works in runs with a pause after each, so that the clean and extract agents, whose
latency is the product's, do not wait for all of it.

The results are those of counting record by record (``mentions.apply_items``). The agents call
this class with their tables and sinks (``workers.runtime.agents``); the tests with doubles
(``workers.stage``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from workers.count.mentions import (
    MAX_CHANGES_PER_MESSAGE,
    Item,
    TableKey,
    apply_in_runs,
    decode_mentions,
    encode_mentions,
    pack_items,
    plan_article,
    split_by_partition,
)
from workers.stage import ActingFor, DeadLetters, Event, Table, Topic
from workers.stats import PipelineStats

#: A flush applies and writes thousands of keys, so it works in runs of a few milliseconds with
#: a pause after each: mention changes applied per run, table writes per run (a rocksdb put and
#: a changelog record each), and the pause: PAUSE_FACTOR times the run's own time, at most
#: MAX_PAUSE_S, so a flush takes at most a quarter of the loop.
CHANGES_PER_YIELD = 500
WRITES_PER_YIELD = 64
PAUSE_FACTOR = 3.0
MAX_PAUSE_S = 0.02

#: ``send_all(topic, [(partition, value), ...], what)``: send the records and return once the
#: broker has acknowledged every one; raise when it refuses one.
SendAll = Callable[[Topic, Sequence[tuple[int, bytes]], str], Awaitable[None]]
#: ``read(table)``: a function that reads one key of ``table`` (``table.get`` by default; the
#: runtime's reads the store once per key).
Read = Callable[[Any], Callable[[Any], Any]]


def _get(table: Any) -> Callable[[Any], Any]:
    getter: Callable[[Any], Any] = table.get
    return getter


def _nothing_waiting() -> int:
    return 0


@dataclass
class CountBatch:
    mentions: Topic  # the mentions topic, partitioned like the count tables
    articles: Table  # article id -> the version last counted
    entity_mentions: Table  # entity key -> counts
    type_mentions: Table  # entity type -> counts
    dead: DeadLetters
    stats: PipelineStats
    partitions: int  # of the count tables and the mentions topic
    acting_for: ActingFor
    send_all: SendAll
    read: Read = _get
    #: table changelog records the producer has not taken yet: a flush waits for them to drain
    #: between runs of writes (one FIFO: thousands queued at once would hold up every record
    #: the other stages send after them)
    backlog: Callable[[], int] = _nothing_waiting
    changes_per_message: int = MAX_CHANGES_PER_MESSAGE

    def __post_init__(self) -> None:
        self._readers: dict[str, Callable[[Any], Any]] = {}

    def _reader(self, name: str) -> Callable[[Any], Any]:
        """The reader of one table, made at its first use (the runtime's needs the table's
        store, which Faust opens once the worker runs)."""
        found = self._readers.get(name)
        if found is None:
            found = self._readers[name] = self.read(getattr(self, name))
        return found

    async def plan(self, events: Sequence[Event]) -> None:
        """Per article: the signed changes its new version makes, sent to the key's partition."""
        get_article = self._reader("articles")
        known: dict[str, Any] = {}  # article id -> state after this batch's records so far
        dirty: dict[str, Event] = {}  # article id -> record whose state to write
        out: dict[int, list[Item]] = {}
        planned: list[Event] = []
        for event in events:
            self.stats.records_in["count"] += 1
            msg = event.message
            try:
                article = orjson.loads(event.value)
                article_id = article["id"]
                if article_id not in known:
                    with self.acting_for(event):
                        known[article_id] = get_article(article_id)
                source = (msg.partition, msg.offset)
                state, changes = plan_article(known[article_id], article, source)
                for partition, part_changes in split_by_partition(changes, self.partitions).items():
                    out.setdefault(partition, []).append((source, part_changes))
                if state is not None:
                    known[article_id] = state
                    dirty[article_id] = event
            except Exception as exc:  # caught per record: an escaping one stops the agent
                await self.dead.send("count", exc, event)
                continue
            planned.append(event)
            self.stats.records_out["count"] += 1
        try:
            messages = [
                (partition, encode_mentions(chunk))
                for partition, items in out.items()
                for chunk in pack_items(items, self.changes_per_message)
            ]
            await self.send_all(self.mentions, messages, "count: send to the mentions topic")
        except Exception as exc:  # refused: dead-letter the batch's records, keep the states
            for event in planned:
                await self.dead.send("count", exc, event)
            return
        # The article states guard the changes just sent (a replay of a counted version sends
        # nothing): written only now that the changes are delivered.
        for article_id, event in dirty.items():
            with self.acting_for(event):
                self.articles[article_id] = known[article_id]

    async def apply(self, events: Sequence[Event]) -> None:
        """Per key: add the changes unless this source record was applied already, each key
        written once per partition of the flush (Kafka Streams' record cache does the same
        before a commit): a popular entity is written once, not once per article."""
        by_partition: dict[int, list[Event]] = {}
        for event in events:
            by_partition.setdefault(event.message.partition, []).append(event)
        for part_events in by_partition.values():
            try:
                changed = await self._apply(part_events)
                await self._write(part_events[-1], changed)
            except Exception as exc:  # an escaping exception would stop the agent
                for event in part_events:
                    await self.dead.send("count", exc, event)

    async def _apply(self, events: Sequence[Event]) -> dict[TableKey, dict[str, Any]]:
        """The new values of the keys that the mentions ``events`` (of one partition) change,
        pausing every CHANGES_PER_YIELD changes."""
        items: list[Item] = []
        for event in events:
            try:
                items.extend(decode_mentions(event.value))
            except Exception as exc:
                await self.dead.send("count", exc, event)
        readers = {"e": self._reader("entity_mentions"), "t": self._reader("type_mentions")}
        changed: dict[TableKey, dict[str, Any]] = {}
        runs = apply_in_runs(lambda key: readers[key[0]](key[1]), items, CHANGES_PER_YIELD)
        pacer = _Pacer()
        with self.acting_for(events[-1]):  # the partition the runs read (a task-local setting)
            for changed in runs:  # noqa: B007 (the last value is the result)
                await pacer.pause()
        return changed

    async def _write(self, event: Event, changed: dict[TableKey, dict[str, Any]]) -> None:
        """Write the changed keys in the partition of ``event``, WRITES_PER_YIELD at a time,
        each time pausing, then waiting until the producer has taken most of their changelog
        records (``backlog``). Safe to wait here: this batch is marked done only after the
        agent's loop body, and a rebalance waits for the events in flight first."""
        pacer = _Pacer()
        with self.acting_for(event):  # the partition the writes go to (a task-local setting)
            for n, (key, value) in enumerate(changed.items(), 1):
                table = self.entity_mentions if key[0] == "e" else self.type_mentions
                table[key[1]] = value
                if n % WRITES_PER_YIELD == 0:
                    await pacer.pause()
                    while self.backlog() > WRITES_PER_YIELD // 2:
                        await asyncio.sleep(0.001)
                    pacer.restart()


class _Pacer:
    """Pauses after a run of a flush for PAUSE_FACTOR × the time the run took."""

    def __init__(self) -> None:
        self._start = time.perf_counter()

    def restart(self) -> None:
        self._start = time.perf_counter()

    async def pause(self) -> None:
        ran = time.perf_counter() - self._start
        await asyncio.sleep(min(PAUSE_FACTOR * ran, MAX_PAUSE_S))
        self.restart()
