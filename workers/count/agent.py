"""Faust glue for the count stage: ``articles.enriched`` -> mention changes -> tables.

Both agents take records in batches (``take_events``): per batch the plan agent sends one
mentions message per partition (not one per article and partition), and the apply agent
reads and writes each count key once per batch (not once per article), which is where the
count stage spent its time (Faust table writes: a rocksdb put plus a changelog record each).
Results are the same as record by record (``workers.count.mentions.apply_items``).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import faust
import orjson

from workers.batches import acting_for, take_batches
from workers.count import plan_article, split_by_partition
from workers.count.mentions import (
    Item,
    TableKey,
    apply_in_runs,
    decode_mentions,
    encode_mentions,
    pack_items,
)
from workers.count.tables import Tables, reader
from workers.settings import Settings
from workers.sinks import DeadLetterSink, deliver
from workers.stats import PipelineStats
from workers.topics import Topics

#: Plan agent: enriched records per batch at most, and how long a batch may wait to fill (adds
#: at most this much latency to the counts when the pipeline is idle; under a backlog batches
#: fill at once).
BATCH_MAX = 256
BATCH_WITHIN_S = 0.05
#: Apply agent: mentions messages per flush at most (each carries the changes of up to
#: BATCH_MAX articles for one partition); the flush interval is ``Settings.count_flush_s``.
APPLY_BATCH_MAX = 1024
#: A flush applies and writes thousands of keys; the clean and extract agents, whose latency
#: is the product's, must not wait for all of it. So it works in runs, with a pause after each
#: that spreads the flush over time: mention changes applied per run (~2 ms), table writes per
#: run (~4 ms: a rocksdb put and a changelog record each), and the pause: PAUSE_FACTOR times
#: the run's own time, at most MAX_PAUSE_S, so a flush takes at most a quarter of the loop.
CHANGES_PER_YIELD = 500
WRITES_PER_YIELD = 64
PAUSE_FACTOR = 3.0
MAX_PAUSE_S = 0.02


def register(
    app: faust.App,
    topics: Topics,
    tables: Tables,
    dead: DeadLetterSink,
    stats: PipelineStats,
    settings: Settings,
) -> None:
    partitions = settings.partitions
    flush_s = settings.count_flush_s

    @app.agent(topics.enriched, name="newsflow.count")
    async def plan_counts(stream: faust.StreamT) -> None:
        """Per article: the signed changes its new version makes, sent to the key's partition."""
        get_article = reader(tables.articles)
        async for events in _batches(stream):
            known: dict[str, Any] = {}  # article id -> state after this batch's records so far
            dirty: dict[str, faust.EventT] = {}  # article id -> record whose state to write
            out: dict[int, list[Item]] = {}
            planned: list[faust.EventT] = []
            for event in events:
                stats.records_in["count"] += 1
                msg = event.message
                try:
                    article = orjson.loads(event.value)
                    article_id = article["id"]
                    if article_id not in known:
                        with acting_for(event):
                            known[article_id] = get_article(article_id)
                    source = (msg.partition, msg.offset)
                    state, changes = plan_article(known[article_id], article, source)
                    for partition, part_changes in split_by_partition(changes, partitions).items():
                        out.setdefault(partition, []).append((source, part_changes))
                    if state is not None:
                        known[article_id] = state
                        dirty[article_id] = event
                except Exception as exc:  # caught per record: an escaping one stops the agent
                    await dead.send("count", exc, event)
                    continue
                planned.append(event)
                stats.records_out["count"] += 1
            try:
                await _send_changes(topics.mentions, out)
            except Exception as exc:  # refused: dead-letter the batch's records, keep the states
                for event in planned:
                    await dead.send("count", exc, event)
                continue
            # The article states guard the changes just sent (a replay of a counted version
            # sends nothing): written only now that the changes are delivered.
            for article_id, event in dirty.items():
                with acting_for(event):
                    tables.articles[article_id] = known[article_id]

    @app.agent(topics.mentions, name="newsflow.count-apply")
    async def apply_counts(stream: faust.StreamT) -> None:
        """Per key: add the changes unless this source record was applied already. Changes are
        gathered for ``count_flush_s`` and each key written once per flush (Kafka Streams'
        record cache does the same before a commit): a popular entity is written once, not
        once per article. Nothing is acked before it is written."""
        readers = {"e": reader(tables.entity_mentions), "t": reader(tables.type_mentions)}
        async for events in take_batches(stream, APPLY_BATCH_MAX, flush_s):
            by_partition: dict[int, list[faust.EventT]] = {}
            for event in events:
                by_partition.setdefault(event.message.partition, []).append(event)
            for part_events in by_partition.values():
                try:
                    changed = await _apply(readers, part_events, dead)
                    await _write(app, tables, part_events[-1], changed)
                except Exception as exc:  # an escaping exception would stop the agent
                    for event in part_events:
                        await dead.send("count", exc, event)


async def _send_changes(mentions: faust.TopicT, out: dict[int, list[Item]]) -> None:
    """Send the planned changes, one message per partition and chunk, and wait until the
    broker has acknowledged all of them (retriable failures are sent again, ``deliver``)."""
    sent = []
    for partition, items in out.items():
        for chunk in pack_items(items):
            value = encode_mentions(chunk)
            send = functools.partial(mentions.send, partition=partition, value=value)
            sent.append((send, await send()))
    for send, delivery in sent:
        await deliver(send, "count: send to the mentions topic", first=delivery)


async def _apply(
    readers: dict[str, Callable[[str], Any]], events: Sequence[faust.EventT], dead: DeadLetterSink
) -> dict[TableKey, dict[str, Any]]:
    """The new values of the keys that the mentions ``events`` (of one partition) change,
    pausing every CHANGES_PER_YIELD changes."""
    items: list[Item] = []
    for event in events:
        try:
            items.extend(decode_mentions(event.value))
        except Exception as exc:
            await dead.send("count", exc, event)
    changed: dict[TableKey, dict[str, Any]] = {}
    runs = apply_in_runs(lambda key: readers[key[0]](key[1]), items, CHANGES_PER_YIELD)
    pacer = _Pacer()
    with acting_for(events[-1]):  # the rocksdb partition the runs read (a task-local setting)
        for changed in runs:  # noqa: B007 (the last value is the result)
            await pacer.pause()
    return changed


def _batches(stream: faust.StreamT) -> AsyncIterator[Sequence[faust.EventT]]:
    return take_batches(stream, BATCH_MAX, BATCH_WITHIN_S)


async def _write(
    app: faust.App, tables: Tables, event: faust.EventT, changed: dict[TableKey, dict[str, Any]]
) -> None:
    """Write the changed keys in the partition of ``event``, WRITES_PER_YIELD at a time, each
    time pausing, then waiting until the producer has taken most of their changelog records.
    Faust's producer buffer is one FIFO: thousands of changelog records queued at once would
    hold up every enriched record sent after them (p99 rose from ~0.1 s to 0.4 s with a 1 s
    flush written at once).
    Safe to wait here: this batch is acked only after the loop body, and a rebalance waits
    for the events in flight to be acked first."""
    buffer = app.producer.buffer
    pacer = _Pacer()
    with acting_for(event):  # the partition the writes go to (a task-local setting)
        for n, (key, value) in enumerate(changed.items(), 1):
            _table(tables, key)[key[1]] = value
            if n % WRITES_PER_YIELD == 0:
                await pacer.pause()
                while buffer.size > WRITES_PER_YIELD // 2:
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


def _table(tables: Tables, key: TableKey) -> faust.types.TableT:
    return tables.entity_mentions if key[0] == "e" else tables.type_mentions
