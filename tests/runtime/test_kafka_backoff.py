"""The reconnect back-off (workers.runtime.kafka_backoff): its schedule, and a real aiokafka client
retrying a refused connection, with and without it. No broker: the port has none. The broker
coming back (the first connection after failures) is checked on the real broker, in
tests/runtime/test_brokerlog.py."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import pytest
from aiokafka.client import AIOKafkaClient
from aiokafka.structs import BrokerMetadata

from workers.brokers.common import free_port
from workers.runtime import kafka_backoff
from workers.runtime.kafka_backoff import ReconnectBackoff


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_delay_doubles_up_to_the_maximum_with_jitter() -> None:
    backoff = ReconnectBackoff(0.1, 2.0, rng=random.Random(1))
    for failures, base in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.6), (6, 2.0), (20, 2.0)]:
        delays = [backoff.delay(failures) for _ in range(200)]
        assert base * 0.8 <= min(delays) < max(delays) <= base * 1.2
        assert len(set(delays)) > 100  # jittered: clients do not retry in step


def test_callers_failing_in_one_period_count_once_and_success_resets() -> None:
    clock = Clock()
    backoff = ReconnectBackoff(0.1, 2.0, clock=clock, rng=random.Random(2))
    assert backoff.wait_s(1) == 0.0
    for _ in range(5):  # five loops that tried together
        backoff.failed(1)
    assert backoff.failures[1] == 1
    assert 0.08 <= backoff.wait_s(1) <= 0.12
    clock.now += 1.0
    backoff.failed(1)
    assert backoff.failures[1] == 2
    assert backoff.wait_s(2) == 0.0  # per node
    assert backoff.succeeded(1) is True
    assert backoff.wait_s(1) == 0.0
    assert backoff.succeeded(1) is False  # no run of failures to end


def test_a_zero_maximum_never_waits() -> None:
    assert ReconnectBackoff(0.1, 0.0).delay(10) == 0.0


@pytest.fixture
def installed() -> Iterator[list[int]]:
    reached: list[int] = []
    kafka_backoff.install(0.1, 1.0, on_reachable=lambda: reached.append(1))
    yield reached
    kafka_backoff.uninstall()


async def _attempts(seconds: float) -> int:
    """Connection attempts an aiokafka client makes in ``seconds`` to a node that refuses them,
    when asked again as soon as an attempt fails (as its loops do)."""
    port = free_port()
    client = AIOKafkaClient(bootstrap_servers=f"127.0.0.1:{port}")
    client.cluster._brokers = {1: BrokerMetadata(1, "127.0.0.1", port, None)}
    tries = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        assert await client._get_conn(1) is None
        tries += 1
    await client.close()
    return tries


async def test_a_refused_node_is_retried_at_the_back_off_pace(installed: list[int]) -> None:
    # 0.1 + 0.2 + 0.4 + 0.8 + 1.0 ... s (+-20 %): at most 6 attempts in 2 s
    assert await _attempts(2.0) <= 6


async def test_without_it_aiokafka_retries_at_once() -> None:
    """The control: the same loop without the back-off spins (what made the outage log)."""
    kafka_backoff.uninstall()
    assert await _attempts(0.5) > 50
