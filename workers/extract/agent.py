"""Faust glue for the extract stage: ``articles.cleaned`` -> ``articles.enriched``.

Exact re-crawls stop here (``workers.recrawl``; the cleaned topic is keyed by article id, so the
``recrawl`` table is co-partitioned with it). The tagging runs in a guarded child process with a
deadline per record; any exception is caught per record and dead-lettered.
"""

from __future__ import annotations

import faust
import orjson

from workers.guard import StageProcess
from workers.records import enriched_record
from workers.recrawl import recrawl_decision
from workers.sinks import DeadLetterSink, send_json
from workers.stats import PipelineStats
from workers.topics import Topics


def register(
    app: faust.App,
    topics: Topics,
    dead: DeadLetterSink,
    stats: PipelineStats,
    recrawl: faust.types.TableT,
    timeout_s: float,
) -> None:
    guard = StageProcess(
        "workers.stagejobs:extract_job", timeout_s, warmup="workers.stagejobs:warm_extract"
    )

    @app.agent(topics.cleaned, name="newsflow.extract")
    async def extract_entities(stream: faust.StreamT) -> None:
        await guard.astart()
        async for event in stream.events():
            stats.records_in["extract"] += 1
            msg = event.message
            try:
                cleaned = orjson.loads(event.value)
                article_id = cleaned["id"]
                enrich, state = recrawl_decision(
                    recrawl.get(article_id), cleaned["content_hash"], (msg.partition, msg.offset)
                )
                if not enrich:
                    stats.records_out["extract_skipped"] += 1
                    continue
                record = enriched_record(cleaned, await guard.run(cleaned["text"]))
                await send_json(topics.enriched, record["id"], record)
                if state is not None:
                    recrawl[article_id] = state
            except Exception as exc:
                await dead.send("extract", exc, event)
                continue
            stats.records_out["extract"] += 1
            produced = record["timestamps"].get("produced")
            if produced:
                stats.latencies_s.append(record["timestamps"]["enriched"] - produced)
