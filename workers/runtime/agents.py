"""The stages as Faust agents: a few lines of glue each, around the stage's batch class.

    raw topic(s) --clean--> articles.cleaned --extract--> articles.enriched --count--> tables

An agent takes its records in batches (``streams``) and hands each batch to its stage's batch
class (``CleanBatch``, ``ExtractBatch``, ``CountBatch``), which ends every record of the batch
(sent on, skipped or dead-lettered) before the agent takes the next one. The CPU-bound clean
and extract work runs in a stage process, with a deadline per record (``guard``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import faust

from workers.clean.batch import CleanBatch
from workers.count.batch import CountBatch
from workers.extract.batch import ExtractBatch
from workers.identity import Identity
from workers.runtime.guard import StageProcess
from workers.runtime.sinks import DeadLetterSink, send_all
from workers.runtime.streams import acting_for, take_batches, take_ready
from workers.runtime.tables import Tables, reader
from workers.runtime.topics import Topics
from workers.settings import Settings
from workers.stage import Event
from workers.stats import PipelineStats

#: Clean and extract: records per batch at most, and how long a batch may keep filling once its
#: first record is there (``take_ready``). Under a backlog batches fill at once; an idle
#: pipeline hands a record on as soon as it arrives.
STAGE_BATCH_MAX = 64
STAGE_BATCH_WITHIN_S = 0.01
#: Count, planning: enriched records per batch at most, and how long a batch may wait to fill
#: (at most this much latency added to the counts when the pipeline is idle; under a backlog
#: batches fill at once).
COUNT_BATCH_MAX = 256
COUNT_BATCH_WITHIN_S = 0.05
#: Count, applying: mentions messages per flush at most (each carries the changes of up to
#: COUNT_BATCH_MAX articles for one partition); the flush interval is ``Settings.count_flush_s``.
APPLY_BATCH_MAX = 1024


def register_clean(
    app: faust.App, topics: Topics, dead: DeadLetterSink, stats: PipelineStats, settings: Settings
) -> None:
    """Raw topic(s) -> ``articles.cleaned``."""
    guard = StageProcess(
        "workers.runtime.stagejobs:clean_job",
        settings.stage_timeout_s,
        warmup="workers.runtime.stagejobs:warm_clean",
    )
    batch = CleanBatch(guard, topics.cleaned, dead, stats, settings.max_body_bytes)
    _guarded_agent(app, topics.raw, "newsflow.clean", guard, batch)


def register_extract(
    app: faust.App,
    topics: Topics,
    dead: DeadLetterSink,
    stats: PipelineStats,
    recrawl: faust.types.TableT,
    timeout_s: float,
    identity: Identity | None = None,
) -> None:
    """``articles.cleaned`` -> ``articles.enriched``. Exact re-crawls stop here: the cleaned
    topic is keyed by article id, so the ``recrawl`` table is co-partitioned with it."""
    guard = StageProcess(
        "workers.runtime.stagejobs:extract_job",
        timeout_s,
        warmup="workers.runtime.stagejobs:warm_extract",
    )
    batch = ExtractBatch(guard, topics.enriched, dead, stats, recrawl, acting_for, identity)
    _guarded_agent(app, topics.cleaned, "newsflow.extract", guard, batch)


def _guarded_agent(
    app: faust.App,
    topic: faust.TopicT,
    name: str,
    guard: StageProcess,
    batch: Callable[[Sequence[Event]], Awaitable[None]],
) -> None:
    """An agent on ``topic`` that starts ``guard`` and hands ``batch`` what it takes."""

    @app.agent(topic, name=name)
    async def agent(stream: faust.StreamT) -> None:
        await guard.astart()
        async for events in take_ready(stream, STAGE_BATCH_MAX, STAGE_BATCH_WITHIN_S):
            await batch(events)


def register_count(
    app: faust.App,
    topics: Topics,
    tables: Tables,
    dead: DeadLetterSink,
    stats: PipelineStats,
    settings: Settings,
) -> None:
    """``articles.enriched`` -> mention changes (``newsflow-mentions``, by key) -> count tables.
    Nothing is marked done before it is written."""
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
        backlog=lambda: app.producer.buffer.size,  # changelog records not yet handed on
    )

    @app.agent(topics.enriched, name="newsflow.count")
    async def plan_counts(stream: faust.StreamT) -> None:
        async for events in take_batches(stream, COUNT_BATCH_MAX, COUNT_BATCH_WITHIN_S):
            await batch.plan(events)

    @app.agent(topics.mentions, name="newsflow.count-apply")
    async def apply_counts(stream: faust.StreamT) -> None:
        async for events in take_batches(stream, APPLY_BATCH_MAX, settings.count_flush_s):
            await batch.apply(events)
