"""Enriched records -> rows of the two exported tables, column by column (pure Python).

``articles``: one row per enriched record (an article version): ids, url, title, dates, text,
entity counts, and where it came from in Kafka (partition, offset, record time).

``mentions``: one row per entity occurrence: article id, entity ``key`` and ``canonical`` name,
type, surface text and code-point offsets into the article text.

Entity identity: records that carry ``key`` / ``canonical`` per entity (the entity-identity
change) are exported with them; older records, whose entities have only ``normalized``, get the
key the count tables use today, ``TYPE:normalized``, and ``normalized`` as the canonical name.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

#: Columns of each table, in file order, with their type (``files.py`` maps them to Arrow:
#: ``time`` is microseconds since the epoch as a UTC timestamp, ``time_ms`` milliseconds).
ARTICLE_COLUMNS: dict[str, str] = {
    "id": "string", "url": "string", "source": "string", "title": "string",
    "published_at": "time", "fetched_at": "time", "lang": "string", "text": "string",
    "content_hash": "string", "entity_count": "int32", "pipeline_version": "string",
    "produced_at": "time", "enriched_at": "time", "kafka_partition": "int32",
    "kafka_offset": "int64", "kafka_timestamp": "time_ms",
}  # fmt: skip
MENTION_COLUMNS: dict[str, str] = {
    "article_id": "string", "entity_key": "string", "type": "string", "canonical": "string",
    "text": "string", "start": "int32", "end": "int32", "published_at": "time",
    "kafka_partition": "int32", "kafka_offset": "int64",
}  # fmt: skip


def entity_key(entity: dict[str, Any]) -> str:
    """The entity's identity key: ``key`` when the record has it, else ``TYPE:normalized``."""
    return entity.get("key") or f"{entity['type']}:{entity['normalized']}"


def entity_canonical(entity: dict[str, Any]) -> str:
    """The entity's canonical name: ``canonical`` when the record has it, else ``normalized``."""
    return entity.get("canonical") or entity["normalized"]


def iso_micros(value: Any) -> int | None:
    """An ISO 8601 string -> epoch microseconds (UTC; a naive time is taken as UTC), else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1_000_000)


def epoch_micros(value: Any) -> int | None:
    """Epoch seconds (int or float) -> microseconds, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value * 1_000_000)


class TableColumns:
    """Rows of one table kept as one list per column (cheap to append, one Arrow array each)."""

    def __init__(self, types: dict[str, str]) -> None:
        self.types = types
        self.columns: dict[str, list[Any]] = {name: [] for name in types}
        self.rows = 0

    def append(self, *values: Any) -> None:
        for column, value in zip(self.columns.values(), values, strict=True):
            column.append(value)
        self.rows += 1


class Rows:
    """The rows of both tables for one batch of records."""

    def __init__(self) -> None:
        self.articles = TableColumns(ARTICLE_COLUMNS)
        self.mentions = TableColumns(MENTION_COLUMNS)
        #: characters of text held, to bound memory
        self.size = 0

    def add(self, record: dict[str, Any], partition: int, offset: int, timestamp_ms: int) -> None:
        """One enriched record (already decoded) at ``partition``/``offset``."""
        entities = record.get("entities") or []
        stamps = record.get("timestamps") or {}
        published = iso_micros(record.get("published_at"))
        article_id = str(record["id"])
        text = record.get("text") or ""
        self.articles.append(
            article_id,
            record.get("url"),
            record.get("source"),
            record.get("title"),
            published,
            iso_micros(record.get("fetched_at")),
            record.get("lang"),
            text,
            record.get("content_hash"),
            len(entities),
            record.get("pipeline_version"),
            epoch_micros(stamps.get("produced")),
            epoch_micros(stamps.get("enriched")),
            partition,
            offset,
            timestamp_ms,
        )
        if entities:  # column by column: ~60 mentions per article make this the hot loop
            n = len(entities)
            m = self.mentions.columns
            m["article_id"] += [article_id] * n
            m["entity_key"] += [entity_key(e) for e in entities]
            m["type"] += [e["type"] for e in entities]
            m["canonical"] += [entity_canonical(e) for e in entities]
            m["text"] += [e["text"] for e in entities]
            m["start"] += [e["start"] for e in entities]
            m["end"] += [e["end"] for e in entities]
            m["published_at"] += [published] * n
            m["kafka_partition"] += [partition] * n
            m["kafka_offset"] += [offset] * n
            self.mentions.rows += n
        self.size += len(text) + 64 * (1 + len(entities))
