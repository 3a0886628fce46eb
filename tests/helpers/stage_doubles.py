"""Stand-ins for Faust's events and topics in the stage tests that run without Kafka."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

import orjson

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


def event(value: Any, topic: str = "in", partition: int = 0, key: bytes | None = None) -> Event:
    raw = value if isinstance(value, bytes) or value is None else orjson.dumps(value)
    return Event(raw, Message(topic, partition, next(_offsets), key))


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
