"""The state: durable Faust tables (rocksdb locally, changelog topics in Kafka).

- ``articles``: article id -> the version last counted (for re-crawls and replays).
- ``entity_mentions``: entity key ``TYPE:name`` -> {total, hours: {YYYY-MM-DDTHH: n}, applied}.
- ``type_mentions``: ``TYPE`` -> the same shape, per entity type.
- ``recrawl``: article id -> {hash, source} of the version last enriched
  (``workers.extract.recrawl``).
- ``aliases``: a GlobalTable (every worker holds all of it) of alias-book entries
  (``workers.identity.book``): what articles taught about names. Its changelog feeds each
  worker's in-memory ``AliasBook``; it lives in memory and is read back whole at start-up.

rocksdb memory is bounded for the whole process, not per table (``workers.runtime.store``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import faust
import orjson
from faust.serializers import codecs
from faust.stores.base import SerializedStore
from faust.types import TableT

from workers.identity import AliasBook
from workers.runtime.codec import CODEC_NAME
from workers.settings import Settings


@dataclass(frozen=True)
class Tables:
    articles: TableT
    entity_mentions: TableT
    type_mentions: TableT
    recrawl: TableT
    aliases: TableT | None = None


def declare_tables(app: faust.App, settings: Settings, book: AliasBook | None = None) -> Tables:
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
        aliases=None if book is None else alias_table(app, book),
    )


def alias_table(app: faust.App, book: AliasBook) -> TableT:
    """The ``aliases`` GlobalTable, every changelog record of which (this worker's writes and
    the other workers', at start-up and after) goes into ``book``. One partition and a
    recovery buffer of one record, as Faust advises for a GlobalTable shared by several
    workers; ``use_partitioner`` makes every worker keep reading all of it after start-up (as a
    standby), so entries other workers write reach this one's book. In memory: a restart reads
    the whole changelog (compacted: one record per entry) and so refills the book."""
    decode = orjson.loads

    async def feed(event: faust.EventT) -> None:
        key = event.message.key
        if key is not None and event.message.value is not None:
            entry = decode(key)
            if isinstance(entry, str):
                book.add(entry)

    table = app.GlobalTable(
        "aliases",
        default=None,
        partitions=1,
        recovery_buffer_size=1,
        use_partitioner=True,
        # a host part: yarl's URL("memory://") is falsy, and Faust then takes the app's store
        store="memory://aliases",
        schema=faust.Schema(key_serializer=CODEC_NAME, value_serializer=CODEC_NAME),
        on_changelog_event=feed,
        help="alias-book entry -> 1 (workers.identity.book)",
    )

    @table.on_recover
    async def refill() -> None:
        """Also take every key the store holds once recovered (a store that keeps its data
        across restarts would not replay it through ``feed``)."""
        for entry in list(table.data.keys()):
            if isinstance(entry, str):
                book.add(entry)

    return table


def alias_writer(table: TableT) -> Callable[[list[str]], None]:
    """``Identity.on_learn`` for the worker: each new entry goes to ``table``'s changelog (its
    one partition), whence every worker's book takes it, this one's too. Not ``table[entry] =
    1``: with ``use_partitioner`` Faust 0.15.3's ``Table.on_key_set`` asserts the partition is
    known before the producer has the changelog topic's metadata. The local store needs no
    write: nothing reads it, the book is the index."""

    def write(entries: list[str]) -> None:
        for entry in entries:
            table.send_changelog(0, entry, 1)

    return write


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
