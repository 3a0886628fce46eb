"""Faust glue for the clean stage: raw topic(s) -> ``articles.cleaned``.

Records come in batches (``take_events``); per batch one request to the guarded child process that
does the CPU work, with a deadline per record (``workers.runtime.guard``). Every record ends in the
cleaned topic or the dead-letter topic (``workers.clean.batch``), before the batch is acked.
"""

from __future__ import annotations

import faust

from workers.clean.batch import CleanBatch
from workers.runtime.guard import StageProcess
from workers.runtime.sinks import DeadLetterSink
from workers.runtime.streams import STAGE_BATCH_MAX, STAGE_BATCH_WITHIN_S, take_ready
from workers.runtime.topics import Topics
from workers.settings import Settings
from workers.stats import PipelineStats


def register(
    app: faust.App, topics: Topics, dead: DeadLetterSink, stats: PipelineStats, settings: Settings
) -> None:
    guard = StageProcess(
        "workers.runtime.stagejobs:clean_job",
        settings.stage_timeout_s,
        warmup="workers.runtime.stagejobs:warm_clean",
    )
    clean_batch = CleanBatch(guard, topics.cleaned, dead, stats, settings.max_body_bytes)

    @app.agent(topics.raw, name="newsflow.clean")
    async def clean(stream: faust.StreamT) -> None:
        await guard.astart()
        async for events in take_ready(stream, STAGE_BATCH_MAX, STAGE_BATCH_WITHIN_S):
            await clean_batch(events)
