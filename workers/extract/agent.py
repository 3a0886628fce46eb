"""Faust glue for the extract stage: ``articles.cleaned`` -> ``articles.enriched``."""

from __future__ import annotations

import faust
import orjson

from workers.extract import get_extractor
from workers.records import enriched_record
from workers.sinks import DeadLetterSink, send_json
from workers.stats import PipelineStats
from workers.topics import Topics


def register(app: faust.App, topics: Topics, dead: DeadLetterSink, stats: PipelineStats) -> None:
    extract = get_extractor()

    @app.agent(topics.cleaned, name="newsflow.extract")
    async def extract_entities(stream: faust.StreamT) -> None:
        async for event in stream.events():
            stats.records_in["extract"] += 1
            try:
                cleaned = orjson.loads(event.value)
                record = enriched_record(cleaned, extract(cleaned["text"]))
            except Exception as exc:
                await dead.send("extract", exc, event)
                continue
            await send_json(topics.enriched, record["id"], record)
            stats.records_out["extract"] += 1
            produced = record["timestamps"].get("produced")
            if produced:
                stats.latencies_s.append(record["timestamps"]["enriched"] - produced)
