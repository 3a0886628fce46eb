"""Stand-ins for Faust's events and topics in the stage tests that run without Kafka
(the interfaces of ``workers.stage``), and the count stage driven through them."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from workers.count.batch import CountBatch
from workers.count.mentions import MAX_CHANGES_PER_MESSAGE
from workers.runtime.sinks import DeadLetterSink
from workers.stage import Event as StageEvent
from workers.stats import PipelineStats

_offsets = itertools.count()


@dataclass
class Message:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    timestamp: float = 1_700_000_000.0


@dataclass
class Event:
    value: bytes | None
    message: Message


def event(
    value: Any,
    topic: str = "in",
    partition: int = 0,
    key: bytes | None = None,
    offset: int | None = None,
) -> Event:
    raw = value if isinstance(value, bytes) or value is None else orjson.dumps(value)
    return Event(raw, Message(topic, partition, next(_offsets) if offset is None else offset, key))


@dataclass
class Topic:
    """Records sent, each acknowledged at once (Faust's ``send`` returns the delivery's
    future), unless ``deliveries`` hands out the futures to use (to delay or fail them)."""

    sent: list[tuple[Any, Any]] = field(default_factory=list)
    deliveries: list[asyncio.Future[Any]] | None = None

    async def send(self, key: Any = None, value: Any = None, partition: Any = None) -> Any:
        self.sent.append((key, value))
        if self.deliveries:
            return self.deliveries.pop(0)
        fut = asyncio.get_running_loop().create_future()
        fut.set_result(None)
        return fut

    def get_topic_name(self) -> str:
        return "out"


def no_partition(event: StageEvent) -> contextlib.AbstractContextManager[None]:
    """``acting_for`` for dict tables, which have no partitions."""
    return contextlib.nullcontext()


class CountTables:
    """The count stage's own batch class (``CountBatch``) over dict tables: each call plans a
    batch of enriched records, then applies the mentions messages it sent."""

    def __init__(self, partitions: int = 4, changes_per_message: int = MAX_CHANGES_PER_MESSAGE):
        self.articles: dict[str, Any] = {}
        self.entities: dict[str, Any] = {}
        self.types: dict[str, Any] = {}
        self.stats = PipelineStats()
        self.dead = Topic()
        self.messages = 0  # mentions messages sent so far
        self._sent: list[tuple[int, bytes]] = []
        self.batch = CountBatch(
            mentions=Topic(),
            articles=self.articles,
            entity_mentions=self.entities,
            type_mentions=self.types,
            dead=DeadLetterSink(self.dead, self.stats),
            stats=self.stats,
            partitions=partitions,
            acting_for=no_partition,
            send_all=self._send_all,
            changes_per_message=changes_per_message,
        )

    async def _send_all(self, topic: Any, records: Sequence[tuple[int, bytes]], what: str) -> None:
        self._sent.extend(records)
        self.messages += len(records)

    async def count_batch(
        self, records: Sequence[tuple[dict[str, Any], int]], partition: int = 0
    ) -> None:
        """Plan ``records`` ((enriched record, offset)) as one batch of ``partition``; apply."""
        await self.batch.plan([event(art, partition=partition, offset=o) for art, o in records])
        sent, self._sent = self._sent, []
        await self.batch.apply([event(value, "mentions", part) for part, value in sent])

    def count(self, art: dict[str, Any], offset: int, partition: int = 0) -> None:
        """One record, planned and applied (outside an event loop)."""
        asyncio.run(self.count_batch([(art, offset)], partition))

    def totals(self) -> dict[str, int]:
        return {k: v["total"] for k, v in self.entities.items() if v["total"]}

    def type_totals(self) -> dict[str, int]:
        return {k: v["total"] for k, v in self.types.items() if v["total"]}
