"""Bounded logging while the broker is away (workers.runtime.brokerlog): the filter on records made
here, then a real worker through a real broker stop (one line when it goes, a summary every
N s, one line when it is back, and nothing else from aiokafka's retry loops)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.errors import NodeNotReadyError

from tests.chaos.outage import measure
from workers.brokers.kafka import KafkaBroker
from workers.runtime import brokerlog
from workers.runtime.brokerlog import BrokerOutageLog


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def messages(self) -> list[str]:
        return [r.getMessage() for r in self.records]


@pytest.fixture
def setup() -> Iterator[tuple[logging.Logger, Lines, Lines, Clock, BrokerOutageLog]]:
    """An aiokafka-named logger with the filter, what passes it, and the filter's own lines."""
    source = logging.getLogger("aiokafka.test-brokerlog")
    out = logging.getLogger("newsflow.test-brokerlog")
    passed, said = Lines(), Lines()
    for logger, handler in ((source, passed), (out, said)):
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
    clock = Clock()
    outage = BrokerOutageLog(10.0, clock=clock, out=out)
    source.addFilter(outage)
    yield source, passed, said, clock, outage
    source.removeFilter(outage)
    source.removeHandler(passed)
    out.removeHandler(said)


def test_one_line_when_it_goes_a_summary_every_10_s_one_when_it_is_back(setup) -> None:
    source, passed, said, clock, outage = setup
    for i in range(2500):  # 25 s of a spinning client: 100 errors a second
        clock.now = i / 100
        source.error("Unable connect to node with id %s: %s", 1, OSError(111, "refused"))
        source.error("Unable to update metadata from %s", [1])
        source.error("Failed fetch messages from %s: %s", 1, NodeNotReadyError("not ready"))
    clock.now = 27.5
    outage.reachable()
    assert passed.records == []
    assert len(said.messages) == 4, said.messages
    assert said.messages[0].startswith("Kafka broker unreachable: Unable connect to node with id 1")
    assert said.messages[1].startswith("Kafka broker still unreachable after 10 s: 3000 client")
    assert said.messages[2].startswith("Kafka broker still unreachable after 20 s: 3000 client")
    assert said.messages[3] == (
        "Kafka broker reachable again after 27.5 s (7499 client errors held back)"
    )
    assert outage.outages == 1 and not outage.in_outage


def test_other_records_pass_and_consequences_pass_outside_an_outage(setup) -> None:
    source, passed, said, _, outage = setup
    source.warning("Heartbeat failed for group %s because it is rebalancing", "g")
    source.error("Marking the coordinator dead (node %s)for group %s.", 1, "g")  # no outage
    logging.getLogger("newsflow.other").error("Unable connect to node with id %s: %s", 1, "x")
    outage.reachable()  # no outage: says nothing
    assert len(passed.records) == 2
    assert said.records == []
    source.error("Unable connect to node with id %s: %s", 1, OSError(111, "refused"))
    source.error("Marking the coordinator dead (node %s)for group %s.", 1, "g")  # held back
    source.warning("Heartbeat failed for group %s because it is rebalancing", "g")  # passes
    assert len(passed.records) == 3
    assert len(said.records) == 1


def test_a_consequence_repeated_outside_an_outage_passes_once_per_window(setup) -> None:
    """Right after the broker is back its coordinator may still be loading the group: aiokafka
    then logs one line per commit (16 in 8 s in a CI run), which passed one by one."""
    source, passed, said, clock, _ = setup
    msg = (
        "OffsetCommit failed for group %s due to a coordinator error (%s), will find new "
        "coordinator and retry"
    )
    for i in range(16):
        clock.now = i * 0.5
        source.info(msg, "g", "NotCoordinatorForGroupError")
    assert len(passed.records) == 1
    clock.now = 11.0
    source.info(msg, "g", "NotCoordinatorForGroupError")
    assert len(passed.records) == 2
    assert said.messages == ["15 more like the next line held back in the last 11 s"]
    source.warning("Heartbeat failed for group %s because it is rebalancing", "g")  # not one
    assert len(passed.records) == 3


def test_a_second_outage_is_told_again(setup) -> None:
    source, _, said, clock, outage = setup
    for at in (0.0, 100.0):
        clock.now = at
        source.error("Unable to update metadata from %s", [1])
        clock.now = at + 1
        outage.reachable()
    assert [m.split(":")[0].split(" after")[0] for m in said.messages] == [
        "Kafka broker unreachable", "Kafka broker reachable again",
    ] * 2  # fmt: skip
    assert outage.outages == 2


def test_install_covers_the_loggers_of_every_aiokafka_loop() -> None:
    outage = brokerlog.install()
    try:
        names = {
            n for n in logging.root.manager.loggerDict
            if outage in getattr(logging.getLogger(n), "filters", [])
        }  # fmt: skip
        assert {  # aiokafka/client.py logs as "aiokafka"
            "aiokafka", "aiokafka.conn", "aiokafka.consumer.fetcher",
            "aiokafka.consumer.group_coordinator", "aiokafka.producer.sender",
        } <= names  # fmt: skip
    finally:
        for logger in brokerlog.aiokafka_loggers():
            logger.removeFilter(outage)


@pytest.mark.timeout(300)
def test_a_worker_through_a_broker_stop_logs_a_few_lines_and_carries_on(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    """12 s without the broker (SIGTERM), a worker fed 10 pages/s: without the back-off and the
    filter it logs tens of thousands of lines (``python -m tests.chaos outage --unbounded``)."""
    figures = measure(kafka_broker, tmp_path, 12.0, {"NEWSFLOW_BROKER_OUTAGE_LOG_S": "5"})
    print("\n" + figures.table())
    said = [line.split("[WARNING] ", 1)[-1] for line in figures.outage_lines]
    assert sum(s.startswith("Kafka broker unreachable") for s in said) == 1, said
    assert sum(s.startswith("Kafka broker still unreachable") for s in said) >= 1, said
    assert sum(s.startswith("Kafka broker reachable again") for s in said) == 1, said
    assert figures.lines <= 15, figures.top
    assert figures.recovery_s is not None, "no output after the broker came back"
