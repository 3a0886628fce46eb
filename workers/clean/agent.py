"""Faust glue for the clean stage: raw topic(s) -> ``articles.cleaned``.

Every record ends in the cleaned topic or the dead-letter topic: any exception is caught per
record (an exception escaping would stop the agent for good). The CPU work runs in a guarded
child process with a deadline per record (``workers.guard``).
"""

from __future__ import annotations

import faust

from workers.clean import CleanedPage
from workers.contracts import decode_raw
from workers.guard import StageProcess
from workers.records import cleaned_record
from workers.settings import Settings
from workers.sinks import DeadLetterSink, send_json
from workers.stats import PipelineStats
from workers.topics import Topics


def register(
    app: faust.App, topics: Topics, dead: DeadLetterSink, stats: PipelineStats, settings: Settings
) -> None:
    guard = StageProcess(
        "workers.stagejobs:clean_job",
        settings.stage_timeout_s,
        warmup="workers.stagejobs:warm_clean",
    )

    @app.agent(topics.raw, name="newsflow.clean")
    async def clean(stream: faust.StreamT) -> None:
        await guard.astart()
        async for event in stream.events():
            stats.records_in["clean"] += 1
            try:
                raw = decode_raw(event.value, settings.max_body_bytes)
            except Exception as exc:
                await dead.send("validate", exc, event)
                continue
            try:
                text, title, published = await guard.run(raw["body"], raw.get("content_type"))
                page = CleanedPage(text, title, published)
                record = cleaned_record(raw, page, event.message.timestamp)
                await send_json(topics.cleaned, record["id"], record)
            except Exception as exc:
                await dead.send("clean", exc, event)
                continue
            stats.records_out["clean"] += 1
