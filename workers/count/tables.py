"""The state: durable Faust tables (rocksdb locally, changelog topics in Kafka).

- ``articles``: article id -> the version last counted (for re-crawls and replays).
- ``entity_mentions``: entity key ``TYPE:name`` -> {total, hours: {YYYY-MM-DDTHH: n}, applied}.
- ``type_mentions``: ``TYPE`` -> the same shape, per entity type.
- ``recrawl``: article id -> {hash, source} of the version last enriched (``workers.recrawl``).

rocksdb memory is bounded for the whole process, not per table (``workers.count.store``).
"""

from __future__ import annotations

from dataclasses import dataclass

import faust
from faust.types import TableT

from workers.codec import CODEC_NAME
from workers.settings import Settings


@dataclass(frozen=True)
class Tables:
    articles: TableT
    entity_mentions: TableT
    type_mentions: TableT
    recrawl: TableT


def declare_tables(app: faust.App, settings: Settings) -> Tables:
    def table(name: str, help_: str) -> TableT:
        return app.Table(
            name,
            default=None,
            partitions=settings.partitions,
            schema=faust.Schema(key_serializer=CODEC_NAME, value_serializer=CODEC_NAME),
            help=help_,
        )

    return Tables(
        articles=table("articles", "article id -> version last counted"),
        entity_mentions=table("entity-mentions", "entity key -> mention counts"),
        type_mentions=table("type-mentions", "entity type -> mention counts"),
        recrawl=table("recrawl", "article id -> content hash last enriched (extract stage)"),
    )
