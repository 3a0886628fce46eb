"""What the harness asks the broker while a run goes on: end offsets, the group's state and its
committed offsets. One consumer and one admin client on a loop of their own (a thread), kept
across broker restarts, so a poll every few hundred milliseconds costs one request, not a
connection; every call has a deadline and answers None while the broker is away.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

T = TypeVar("T")
TP = tuple[str, int]

# The probe's own clients retry through broker outages by design; their errors are noise here.
logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


class Probe:
    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="probe", daemon=True)
        self._thread.start()
        self._consumer: AIOKafkaConsumer | None = None
        self._admin: AIOKafkaAdminClient | None = None

    def _call(self, factory: Callable[[], Awaitable[T]], timeout: float) -> T | None:
        async def bounded() -> T:
            return await asyncio.wait_for(factory(), timeout)

        future = asyncio.run_coroutine_threadsafe(bounded(), self._loop)
        try:
            return future.result(timeout + 5)
        except (Exception, concurrent.futures.TimeoutError):
            return None

    async def _clients(self) -> tuple[AIOKafkaConsumer, AIOKafkaAdminClient]:
        if self._consumer is None:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap, enable_auto_commit=False, request_timeout_ms=5000
            )
            await consumer.start()
            self._consumer = consumer
        if self._admin is None:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=5000)
            await admin.start()
            self._admin = admin
        return self._consumer, self._admin

    async def _ends(self, topics: list[str]) -> dict[TP, int]:
        consumer, _ = await self._clients()
        cluster = await consumer._client.fetch_all_metadata()
        tps = [
            TopicPartition(t, p) for t in topics for p in (cluster.partitions_for_topic(t) or ())
        ]
        if not tps:
            return {}
        ends = await consumer.end_offsets(tps)
        return {(tp.topic, tp.partition): n for tp, n in ends.items()}

    def end_offsets(self, topics: list[str], timeout: float = 5.0) -> dict[TP, int] | None:
        """End offset of every partition of ``topics`` (topics not there yet are left out)."""
        return self._call(lambda: self._ends(topics), timeout)

    def size(self, topic: str, timeout: float = 5.0) -> int | None:
        """Records in ``topic`` (sum of its end offsets), None while the broker does not answer."""
        ends = self.end_offsets([topic], timeout)
        return None if ends is None else sum(ends.values())

    async def _topics(self) -> list[str]:
        consumer, _ = await self._clients()
        cluster = await consumer._client.fetch_all_metadata()
        return sorted(cluster.topics())

    def topics(self, timeout: float = 5.0) -> list[str] | None:
        """Every topic the broker has."""
        return self._call(self._topics, timeout)

    async def _group(self, group: str) -> tuple[str, dict[TP, int]]:
        _, admin = await self._clients()
        described: Any = await admin.describe_consumer_groups([group])
        state = "Unknown"
        for response in described:
            for entry in response.groups:
                if entry[1] == group:
                    state = entry[2]
        offsets = await admin.list_consumer_group_offsets(group)
        committed = {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items()}
        return state, committed

    def group(self, group: str, timeout: float = 5.0) -> tuple[str, dict[TP, int]] | None:
        """(state, committed offset per partition) of a consumer group; state is Kafka's:
        Stable, PreparingRebalance, CompletingRebalance, Empty, Dead."""
        return self._call(lambda: self._group(group), timeout)

    def close(self) -> None:
        async def stop() -> None:
            for client in (self._consumer, self._admin):
                if client is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(
                            client.stop() if isinstance(client, AIOKafkaConsumer)
                            else client.close(), 5)  # fmt: skip

        self._call(stop, 10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
