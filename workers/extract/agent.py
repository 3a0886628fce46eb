"""Faust glue for the extract stage: ``articles.cleaned`` -> ``articles.enriched``.

Exact re-crawls stop here (``workers.recrawl``; the cleaned topic is keyed by article id, so the
``recrawl`` table is co-partitioned with it). Records come in batches (``take_events``); the
tagging runs in a guarded child process, one request per batch and a deadline per record
(``workers.runtime.guard``). Every record is enriched, skipped or dead-lettered
(``workers.extract.batch``) before the batch is acked.
"""

from __future__ import annotations

import faust

from workers.extract.batch import ExtractBatch
from workers.identity import Identity
from workers.runtime.guard import StageProcess
from workers.runtime.sinks import DeadLetterSink
from workers.runtime.streams import STAGE_BATCH_MAX, STAGE_BATCH_WITHIN_S, acting_for, take_ready
from workers.runtime.topics import Topics
from workers.stats import PipelineStats


def register(
    app: faust.App,
    topics: Topics,
    dead: DeadLetterSink,
    stats: PipelineStats,
    recrawl: faust.types.TableT,
    timeout_s: float,
    identity: Identity | None = None,
) -> None:
    guard = StageProcess(
        "workers.runtime.stagejobs:extract_job",
        timeout_s,
        warmup="workers.runtime.stagejobs:warm_extract",
    )
    extract_batch = ExtractBatch(guard, topics.enriched, dead, stats, recrawl, acting_for, identity)

    @app.agent(topics.cleaned, name="newsflow.extract")
    async def extract_entities(stream: faust.StreamT) -> None:
        await guard.astart()
        async for events in take_ready(stream, STAGE_BATCH_MAX, STAGE_BATCH_WITHIN_S):
            await extract_batch(events)
