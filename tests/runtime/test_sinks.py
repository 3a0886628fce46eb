"""workers.runtime.sinks without Kafka: dead letters are confirmed (retried, never skipped),
failures are told apart (the broker's trouble vs the record's), back-off has jitter, logging is
bounded."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
    TopicAuthorizationFailedError,
)
from faust.exceptions import ProducerSendError

from tests.helpers.stage_doubles import Topic, event
from workers.runtime import sinks
from workers.runtime.sinks import Backoff, DeadLetterSink, deliver, is_retriable, send_all
from workers.stats import PipelineStats


def failed(exc: BaseException) -> asyncio.Future[Any]:
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    fut.set_exception(exc)
    return fut


def test_retriable_failures_are_the_brokers_not_the_records() -> None:
    assert is_retriable(KafkaTimeoutError())
    assert is_retriable(NotLeaderForPartitionError())
    assert is_retriable(KafkaConnectionError())
    wrapped = ProducerSendError("Error while sending")
    wrapped.__cause__ = KafkaTimeoutError()
    assert is_retriable(wrapped)
    assert not is_retriable(MessageSizeTooLargeError())
    assert not is_retriable(TopicAuthorizationFailedError())
    assert not is_retriable(ValueError("bad record"))


def test_backoff_grows_to_its_ceiling_with_jitter() -> None:
    backoff = Backoff(first_s=0.1, max_s=2.0)
    delays = [backoff.next_delay() for _ in range(200)]
    assert all(0 <= d <= 2.0 for d in delays)
    assert max(delays[:1]) <= 0.1  # the first wait is short
    assert len({round(d, 6) for d in delays[10:]}) > 100  # jittered, not a fixed period
    assert max(delays[10:]) > 1.0  # and it grew


async def test_a_dead_letter_is_retried_until_the_broker_takes_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(Backoff, "next_delay", lambda self: 0.0)
    topic = Topic()
    topic.deliveries = [failed(KafkaTimeoutError()) for _ in range(50)]
    stats = PipelineStats()
    sink = DeadLetterSink(topic, stats)
    with caplog.at_level(logging.WARNING, logger="newsflow.sinks"):
        await sink.send("clean", ValueError("broken"), event(b"\x00", key=b"k"))
    assert len(topic.sent) == 51  # 50 failures, then delivered
    assert orjson.loads(topic.sent[-1][1])["reason"] == "ValueError: broken"
    assert sum(stats.deadletters.values()) == 1  # counted once, when delivered
    retry_lines = [r for r in caplog.records if "dead letter for" in r.getMessage()]
    assert 1 <= len(retry_lines) <= 3  # first failure and recovery, not one line per attempt


async def test_a_dead_letter_the_broker_refuses_goes_without_its_original(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Backoff, "next_delay", lambda self: 0.0)
    topic = Topic()
    topic.deliveries = [failed(MessageSizeTooLargeError())]
    sink = DeadLetterSink(topic, PipelineStats())
    await sink.send("clean", ValueError("broken"), event(b"x" * 1000, key=b"k"))
    first, second = (orjson.loads(v) for _, v in topic.sent)
    assert first["original"] == "x" * 1000
    assert second["original"] is None and second["reason"] == "ValueError: broken"


async def test_deliver_raises_what_the_broker_refuses_and_retries_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Backoff, "next_delay", lambda self: 0.0)
    attempts: list[int] = []

    async def send() -> asyncio.Future[Any]:
        attempts.append(1)
        if len(attempts) < 3:
            return failed(NotLeaderForPartitionError())
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        fut.set_result("ok")
        return fut

    assert await deliver(send, "test") == "ok"
    assert len(attempts) == 3

    async def refuse() -> asyncio.Future[Any]:
        return failed(MessageSizeTooLargeError())

    with pytest.raises(MessageSizeTooLargeError):
        await deliver(refuse, "test")


def test_failure_logging_is_bounded(caplog: pytest.LogCaptureFixture) -> None:
    trouble = sinks._Trouble("sending", every_s=3600)
    with caplog.at_level(logging.WARNING, logger="newsflow.sinks"):
        for _ in range(10_000):
            trouble.failed(KafkaTimeoutError())
        trouble.recovered()
    assert len(caplog.records) == 2


class PartitionLog:
    """A topic whose log is what the broker took, in the order it took it: a send that fails
    (``fail_first`` sends, by their value) leaves nothing in the log; any other send appends."""

    def __init__(self, fail_first: set[Any]) -> None:
        self.fail_first = set(fail_first)
        self.log: list[tuple[Any, Any, Any]] = []  # (partition, key, value)

    async def send(self, key: Any = None, value: Any = None, partition: Any = None) -> Any:
        if value in self.fail_first:
            self.fail_first.discard(value)
            return failed(KafkaTimeoutError())
        self.log.append((partition, key, value))
        fut = asyncio.get_running_loop().create_future()
        fut.set_result(None)
        return fut

    def get_topic_name(self) -> str:
        return "out"

    def of(self, partition: Any = None, key: Any = None) -> list[Any]:
        return [v for p, k, v in self.log if (partition is None or p == partition)
                and (key is None or k == key)]  # fmt: skip


async def test_send_all_keeps_the_order_of_a_partition_when_a_record_is_sent_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The count stage's changes of one partition must land in the order planned: a table
    value keeps the last applied offset per source partition, so a change landing after a
    later one would be dropped as a replay."""
    monkeypatch.setattr(Backoff, "next_delay", lambda self: 0.0)
    topic = PartitionLog(fail_first={b"a1"})
    records = [(0, b"a1"), (0, b"a2"), (1, b"b1"), (0, b"a3"), (1, b"b2")]
    await send_all(topic, records, "test")
    assert topic.of(partition=0) == [b"a1", b"a2", b"a3"]
    assert topic.of(partition=1) == [b"b1", b"b2"]


async def test_an_outbox_resends_the_records_of_a_key_after_its_failed_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two versions of one article in a batch, the first send failing: the last record of the
    key in the topic must be the last version (a reader takes it as the current one)."""
    monkeypatch.setattr(Backoff, "next_delay", lambda self: 0.0)
    topic = PartitionLog(fail_first={b"v1"})
    outbox = DeadLetterSink(Topic(), PipelineStats()).outbox("extract")
    for value, key in [(b"v1", b"k"), (b"other", b"j"), (b"v2", b"k")]:
        await outbox.send(event({"id": 1}), topic, key, value)
    assert await outbox.confirm() == []
    assert topic.of(key=b"k")[-1] == b"v2"
    assert set(topic.of(key=b"k")) == {b"v1", b"v2"}
    assert topic.of(key=b"j") == [b"other"]  # another key is not sent again
