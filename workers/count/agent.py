"""Faust glue for the count stage: ``articles.enriched`` -> mention changes -> tables.

Both agents take records in batches (``take_batches``) and hand each batch to the stage's
``CountBatch`` (``workers.count.batch``): ``plan`` per batch of enriched records, ``apply`` per
flush of mention changes (``Settings.count_flush_s``). Nothing is marked done before it is
written.
"""

from __future__ import annotations

import faust

from workers.count.batch import CountBatch
from workers.runtime.sinks import DeadLetterSink, send_all
from workers.runtime.streams import acting_for, take_batches
from workers.runtime.tables import Tables, reader
from workers.runtime.topics import Topics
from workers.settings import Settings
from workers.stats import PipelineStats

#: Plan agent: enriched records per batch at most, and how long a batch may wait to fill (adds
#: at most this much latency to the counts when the pipeline is idle; under a backlog batches
#: fill at once).
BATCH_MAX = 256
BATCH_WITHIN_S = 0.05
#: Apply agent: mentions messages per flush at most (each carries the changes of up to
#: BATCH_MAX articles for one partition); the flush interval is ``Settings.count_flush_s``.
APPLY_BATCH_MAX = 1024


def register(
    app: faust.App,
    topics: Topics,
    tables: Tables,
    dead: DeadLetterSink,
    stats: PipelineStats,
    settings: Settings,
) -> None:
    batch = CountBatch(
        mentions=topics.mentions,
        articles=tables.articles,
        entity_mentions=tables.entity_mentions,
        type_mentions=tables.type_mentions,
        dead=dead,
        stats=stats,
        partitions=settings.partitions,
        acting_for=acting_for,
        send_all=send_all,
        read=reader,
        backlog=lambda: app.producer.buffer.size,
    )

    @app.agent(topics.enriched, name="newsflow.count")
    async def plan_counts(stream: faust.StreamT) -> None:
        async for events in take_batches(stream, BATCH_MAX, BATCH_WITHIN_S):
            await batch.plan(events)

    @app.agent(topics.mentions, name="newsflow.count-apply")
    async def apply_counts(stream: faust.StreamT) -> None:
        async for events in take_batches(stream, APPLY_BATCH_MAX, settings.count_flush_s):
            await batch.apply(events)
