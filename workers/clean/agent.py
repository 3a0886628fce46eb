"""Faust glue for the clean stage: raw topic(s) -> ``articles.cleaned``."""

from __future__ import annotations

import faust

from workers.clean import clean_page
from workers.contracts import decode_raw
from workers.records import cleaned_record
from workers.settings import Settings
from workers.sinks import DeadLetterSink, send_json
from workers.stats import PipelineStats
from workers.topics import Topics


def register(
    app: faust.App, topics: Topics, dead: DeadLetterSink, stats: PipelineStats, settings: Settings
) -> None:
    @app.agent(topics.raw, name="newsflow.clean")
    async def clean(stream: faust.StreamT) -> None:
        async for event in stream.events():
            stats.records_in["clean"] += 1
            try:
                raw = decode_raw(event.value, settings.max_body_bytes)
            except Exception as exc:
                await dead.send("validate", exc, event)
                continue
            try:
                page = clean_page(raw["body"], raw.get("content_type"))
                record = cleaned_record(raw, page, event.message.timestamp)
            except Exception as exc:
                await dead.send("clean", exc, event)
                continue
            await send_json(topics.cleaned, record["id"], record)
            stats.records_out["clean"] += 1
