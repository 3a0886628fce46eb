"""Faust glue for the count stage: ``articles.enriched`` -> mention changes -> tables."""

from __future__ import annotations

import faust
import orjson

from workers.count import apply_changes, group_by_key, plan_article, split_by_partition
from workers.count.tables import Tables
from workers.settings import Settings
from workers.sinks import DeadLetterSink
from workers.stats import PipelineStats
from workers.topics import Topics


def register(
    app: faust.App,
    topics: Topics,
    tables: Tables,
    dead: DeadLetterSink,
    stats: PipelineStats,
    settings: Settings,
) -> None:
    partitions = settings.partitions

    @app.agent(topics.enriched, name="newsflow.count")
    async def plan_counts(stream: faust.StreamT) -> None:
        """Per article: the signed changes its new version makes, sent to the key's partition."""
        async for event in stream.events():
            stats.records_in["count"] += 1
            msg = event.message
            try:
                article = orjson.loads(event.value)
                article_id = article["id"]
                source = (msg.partition, msg.offset)
                state, changes = plan_article(tables.articles.get(article_id), article, source)
                for partition, part_changes in split_by_partition(changes, partitions).items():
                    payload = {"article_id": article_id, "source": source, "changes": part_changes}
                    await topics.mentions.send(partition=partition, value=orjson.dumps(payload))
                if state is not None:
                    tables.articles[article_id] = state
            except Exception as exc:  # caught per record: an escaping one stops the agent
                await dead.send("count", exc, event)
                continue
            stats.records_out["count"] += 1

    @app.agent(topics.mentions, name="newsflow.count-apply")
    async def apply_counts(stream: faust.StreamT) -> None:
        """Per key: add the changes unless this source record was applied already."""
        async for event in stream.events():
            try:
                message = orjson.loads(event.value)
                source = (int(message["source"][0]), int(message["source"][1]))
                grouped = group_by_key(message["changes"])
                for (kind, key), changes in grouped.items():
                    table = tables.entity_mentions if kind == "e" else tables.type_mentions
                    new_value = apply_changes(table.get(key), changes, source)
                    if new_value is not None:
                        table[key] = new_value
            except Exception as exc:
                await dead.send("count", exc, event)
                continue
