"""Talk to the test broker from tests: produce records, wait for records, make topics.

Pipeline tests use these to feed ``articles.raw`` and to wait for what the workers write::

    from tests.helpers.kafka import consume_until, json_values, produce, unique_topic

    async def test_clean(kafka_bootstrap):
        raw = unique_topic("raw")
        await produce(kafka_bootstrap, raw, [{"url": "u1", "html": "..."}])
        recs = await consume_until(kafka_bootstrap, "articles.cleaned", lambda rs: len(rs) >= 1)
        assert json_values(recs)[0]["url"] == "u1"

Consumers here use manual partition assignment (no consumer group), so reading never waits for
a group join and never commits offsets that a worker under test might share.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import RecordMetadata

Value = bytes | str | dict[str, Any] | list[Any] | None
Records = list[ConsumerRecord[bytes, bytes]]


def unique_topic(prefix: str = "test") -> str:
    """A fresh topic name, so tests sharing one session broker never see each other's data."""
    return f"{prefix}.{uuid.uuid4().hex[:10]}"


def encode(value: Value) -> bytes | None:
    """bytes as is, str as UTF-8, dict/list as JSON (orjson); None stays None (a tombstone)."""
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return orjson.dumps(value)


async def produce(
    bootstrap: str,
    topic: str,
    values: Iterable[Value],
    keys: Iterable[Value] | None = None,
    partition: int | None = None,
    max_request_size: int = 1_048_576,
) -> list[RecordMetadata]:
    """Send ``values`` (optionally with ``keys``) to ``topic`` with acks=all; return metadata.

    Waits for every record to be acknowledged, so a following consume can rely on them.
    """
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", max_request_size=max_request_size
    )
    try:
        await producer.start()
        key_list = list(keys) if keys is not None else None
        futures = []
        for i, value in enumerate(values):
            key = encode(key_list[i]) if key_list is not None else None
            futures.append(await producer.send(topic, encode(value), key=key, partition=partition))
        return list(await asyncio.gather(*futures))
    finally:
        await producer.stop()


async def consume_until(
    bootstrap: str,
    topic: str,
    predicate: Callable[[Records], bool],
    timeout: float = 30.0,
    from_beginning: bool = True,
    isolation_level: str = "read_uncommitted",
) -> Records:
    """Read ``topic`` (all partitions) until ``predicate(records_so_far)`` is true; return them.

    The topic may not exist yet (a worker creates it later): it is waited for. On timeout an
    AssertionError says how many records were seen. ``isolation_level="read_committed"`` hides
    records of aborted or still-open transactions.
    """
    deadline = time.monotonic() + timeout
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        isolation_level=isolation_level,
        auto_offset_reset="earliest" if from_beginning else "latest",
    )
    records: Records = []
    try:
        await consumer.start()
        partitions: set[int] | None = None
        while partitions is None:
            # A metadata request for *all* topics: it never auto-creates ``topic`` (which would
            # fix its partition count before the worker under test creates it).
            cluster = await consumer._client.fetch_all_metadata()
            partitions = cluster.partitions_for_topic(topic)
            if partitions is None:
                if time.monotonic() > deadline:
                    raise AssertionError(f"topic {topic!r} did not appear within {timeout} s")
                await asyncio.sleep(0.2)
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        if from_beginning:
            await consumer.seek_to_beginning(*tps)
        else:
            await consumer.seek_to_end(*tps)
        while not predicate(records):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"predicate not met on {topic!r} within {timeout} s; "
                    f"saw {len(records)} record(s)"
                )
            batch = await consumer.getmany(timeout_ms=int(min(remaining, 0.5) * 1000))
            for tp in tps:
                records.extend(batch.get(tp, []))
        return records
    finally:
        await consumer.stop()


def values(records: Sequence[ConsumerRecord[bytes, bytes]]) -> list[bytes | None]:
    """The raw values of ``records``, in the order read."""
    return [r.value for r in records]


def json_values(records: Sequence[ConsumerRecord[bytes, bytes]]) -> list[Any]:
    """The values of ``records`` decoded as JSON."""
    return [orjson.loads(r.value) if r.value is not None else None for r in records]


async def create_topic(
    bootstrap: str, topic: str, partitions: int = 1, config: dict[str, str] | None = None
) -> None:
    """Create ``topic`` with ``partitions`` (replication 1); an existing topic is left as is."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        if topic in await admin.list_topics():
            return
        await admin.create_topics([NewTopic(topic, partitions, 1, topic_configs=config or {})])
    finally:
        await admin.close()


async def topic_partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    """``topic``'s partitions from a fresh all-topics metadata request (which, unlike a request
    for the one topic, never auto-creates it); AssertionError when the topic does not exist."""
    cluster = await consumer._client.fetch_all_metadata()
    parts = cluster.partitions_for_topic(topic)
    if not parts:
        raise AssertionError(f"topic {topic} not found")
    return [TopicPartition(topic, p) for p in sorted(parts)]


async def read_topic(bootstrap: str, topic: str, timeout: float = 180.0) -> Records:
    """Every record in ``topic`` right now (all partitions, from the earliest offset), each with
    its partition and offset. Fails loudly when the read cannot reach the end offsets seen at the
    start: a silent partial read would look like lost records."""
    # earliest: with aiokafka's default "latest" reset the assignment can race
    # seek_to_beginning, and the read then starts at the end.
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=16 << 20,
        fetch_max_bytes=64 << 20,
    )
    await consumer.start()
    try:
        tps = await topic_partitions(consumer, topic)
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        await consumer.seek_to_beginning(*tps)
        out: Records = []
        # Progress from the records themselves: position() may run ahead while records are
        # prefetched. Only when a fetch returns nothing is position() exact, and then a
        # partition whose last offsets hold no record (a gap) counts as read to its end.
        done = {tp: 0 for tp in tps}
        deadline = time.monotonic() + timeout
        while any(done[tp] < ends[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read {topic} to its end: at {done}, end {ends}")
            batch = await consumer.getmany(timeout_ms=1000)
            for tp, records in batch.items():
                out.extend(r for r in records if r.offset < ends[tp])
                if records:
                    done[tp] = records[-1].offset + 1
            if not batch:
                for tp in tps:
                    if done[tp] < ends[tp] and await consumer.position(tp) >= ends[tp]:
                        done[tp] = ends[tp]
        return out
    finally:
        await consumer.stop()
