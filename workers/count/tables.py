"""The state: durable Faust tables (rocksdb locally, changelog topics in Kafka).

- ``articles``: article id -> the version last counted (for re-crawls and replays).
- ``entity_mentions``: entity key ``TYPE:name`` -> {total, hours: {YYYY-MM-DDTHH: n}, applied}.
- ``type_mentions``: ``TYPE`` -> the same shape, per entity type.
- ``recrawl``: article id -> {hash, source} of the version last enriched (``workers.recrawl``).
"""

from __future__ import annotations

from dataclasses import dataclass

import faust
from faust.types import TableT

from workers.codec import CODEC_NAME
from workers.settings import Settings

#: Per table partition (each one is its own rocksdb). Faust's defaults are a 2 GB block cache
#: and up to 3 x 64 MB memtables *per partition*, so with 4 tables x N partitions the worker's
#: RSS grew with the data it had written. These bound one partition's DB to an 8 MB cache plus
#: 2 x 4 MB memtables; the tables' working set (counts of the current entities) fits easily.
ROCKSDB_OPTIONS = {
    "write_buffer_size": 4 << 20,
    "max_write_buffer_number": 2,
    "block_cache_size": 8 << 20,
}


@dataclass(frozen=True)
class Tables:
    articles: TableT
    entity_mentions: TableT
    type_mentions: TableT
    recrawl: TableT


def declare_tables(app: faust.App, settings: Settings) -> Tables:
    rocksdb = settings.store.startswith("rocksdb")

    def table(name: str, help_: str) -> TableT:
        return app.Table(
            name,
            default=None,
            partitions=settings.partitions,
            schema=faust.Schema(key_serializer=CODEC_NAME, value_serializer=CODEC_NAME),
            help=help_,
            # a fresh dict per table: Faust's store pops keys out of the one it is given
            options=dict(ROCKSDB_OPTIONS) if rocksdb else None,
        )

    return Tables(
        articles=table("articles", "article id -> version last counted"),
        entity_mentions=table("entity-mentions", "entity key -> mention counts"),
        type_mentions=table("type-mentions", "entity type -> mention counts"),
        recrawl=table("recrawl", "article id -> content hash last enriched (extract stage)"),
    )
