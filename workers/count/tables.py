"""The state: durable Faust tables (rocksdb locally, changelog topics in Kafka).

- ``articles``: article id -> the version last counted (for re-crawls and replays).
- ``entity_mentions``: entity key ``TYPE:name`` -> {total, hours: {YYYY-MM-DDTHH: n}, applied}.
- ``type_mentions``: ``TYPE`` -> the same shape, per entity type.
- ``recrawl``: article id -> {hash, source} of the version last enriched (``workers.recrawl``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import faust
from faust.serializers import codecs
from faust.stores.base import SerializedStore
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


def reader(table: TableT) -> Callable[[Any], Any]:
    """``table.get`` (None when the key is missing) in one store read, for the count stage's
    reads (one per key and batch). Through Faust a read checks the key with one rocksdb get,
    reads it with another, and encodes and decodes through the serializer registry, whose
    model lookup raises and catches a KeyError per value. Here: the key encoded by the store's
    own key codec, one read through the store's ``_get`` (the rocksdb partition of the current
    event, as Faust reads it), the value decoded by the store's value codec. The same value
    as ``table.get``: a dict naming a Faust model (the registry's ``__faust`` key, which no
    table here holds) is still handed to the registry. Not counted by Faust's table sensors
    (nothing here reads them). A store that keeps objects (``memory://``) or a table with
    model types is read through ``table.get``."""
    store = table.data
    if not isinstance(store, SerializedStore):
        return table.get
    if store.key_type is not None or store.value_type is not None:
        return table.get
    encode_key = codecs.get_codec(store.key_serializer or "json").dumps
    decode_value = codecs.get_codec(store.value_serializer or "json").loads
    get_raw = store._get
    blessed = faust.Record._blessed_key

    def get(key: Any) -> Any:
        raw = get_raw(encode_key(key))
        if raw is None:
            return None
        value = decode_value(raw)
        if isinstance(value, dict) and blessed in value:
            return store._decode_value(raw)
        return value

    return get
