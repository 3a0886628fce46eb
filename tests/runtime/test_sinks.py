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
from workers.runtime.sinks import Backoff, DeadLetterSink, deliver, is_retriable
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
