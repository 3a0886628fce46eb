"""The embedded Tansu broker (what ``newsflow up`` runs): start, round trips, stop."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.kafka import consume_until, json_values, produce, unique_topic
from workers.brokers.common import BrokerError, port_is_free
from workers.brokers.tansu import TansuBroker


@pytest.fixture(scope="module")
def tansu() -> Iterator[TansuBroker]:
    broker = TansuBroker()
    try:
        broker.start()
    except BrokerError as exc:
        pytest.fail(f"the bundled Tansu binary must start: {exc}")
    yield broker
    broker.stop()


async def test_round_trip_several_records(tansu: TansuBroker) -> None:
    topic = unique_topic("tansu")
    sent = [{"n": i, "title": f"見出し {i}"} for i in range(10)]
    await produce(tansu.bootstrap, topic, sent)
    got = await consume_until(tansu.bootstrap, topic, lambda rs: len(rs) >= 10, timeout=30)
    # Tansu auto-creates topics with several partitions: order holds per partition only.
    assert sorted(json_values(got), key=lambda v: v["n"]) == sent


def test_stop_frees_the_port() -> None:
    broker = TansuBroker()
    broker.start()
    assert broker.start_seconds is not None and broker.start_seconds < 30
    assert not port_is_free(broker.port)
    broker.stop()
    assert not broker.is_running()
    assert port_is_free(broker.port)
