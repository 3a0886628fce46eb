"""The real Kafka broker: round trips, transactions, restart keeping data, assembly, CLI."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from tests.helpers.kafka import (
    consume_until,
    create_topic,
    json_values,
    produce,
    unique_topic,
    values,
)
from workers.brokers.common import pid_alive
from workers.brokers.kafka import KafkaBroker, assemble

pytestmark = pytest.mark.kafka


async def test_round_trip_several_records(kafka_bootstrap: str) -> None:
    topic = unique_topic("rt")
    sent = [{"n": i, "text": f"記事 {i}"} for i in range(20)]
    metas = await produce(kafka_bootstrap, topic, sent, keys=[f"k{i}" for i in range(20)])
    assert [m.offset for m in metas] == list(range(20))
    got = await consume_until(kafka_bootstrap, topic, lambda rs: len(rs) >= 20, timeout=30)
    assert json_values(got) == sent
    assert [r.key for r in got] == [f"k{i}".encode() for i in range(20)]


async def test_multi_partition_topic(kafka_bootstrap: str) -> None:
    topic = unique_topic("parts")
    await create_topic(kafka_bootstrap, topic, partitions=4)
    for p in range(4):
        await produce(kafka_bootstrap, topic, [f"p{p}-{i}" for i in range(3)], partition=p)
    got = await consume_until(kafka_bootstrap, topic, lambda rs: len(rs) >= 12)
    assert {r.partition for r in got} == {0, 1, 2, 3}
    assert sorted(v for v in values(got) if v is not None) == sorted(
        f"p{p}-{i}".encode() for p in range(4) for i in range(3)
    )


async def test_transactions_commit_and_abort(kafka_bootstrap: str) -> None:
    """Exactly-once needs transactions: committed records are visible, aborted ones are not."""
    topic = unique_topic("tx")
    await create_topic(kafka_bootstrap, topic)
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, transactional_id=unique_topic("txid")
    )
    await producer.start()
    try:
        async with producer.transaction():
            for i in range(3):
                await producer.send(topic, f"committed-{i}".encode())
        await producer.begin_transaction()
        await producer.send(topic, b"aborted")
        await producer.abort_transaction()
        async with producer.transaction():
            await producer.send(topic, b"committed-3")
    finally:
        await producer.stop()

    want = [f"committed-{i}".encode() for i in range(4)]
    got = await consume_until(
        kafka_bootstrap, topic, lambda rs: len(rs) >= 4, isolation_level="read_committed"
    )
    assert values(got) == want
    # read_uncommitted also sees the aborted record, proving it really reached the log.
    raw = await consume_until(kafka_bootstrap, topic, lambda rs: len(rs) >= 5)
    assert b"aborted" in values(raw)


async def test_restart_keeps_data(kafka_broker: KafkaBroker) -> None:
    bootstrap = kafka_broker.bootstrap
    topic = unique_topic("restart")
    before = [f"before-{i}" for i in range(10)]
    await produce(bootstrap, topic, before)

    await kafka_broker.arestart()
    assert kafka_broker.bootstrap == bootstrap  # same port
    assert kafka_broker.is_running()

    await produce(bootstrap, topic, ["after"])
    got = await consume_until(bootstrap, topic, lambda rs: len(rs) >= 11)
    assert values(got) == [v.encode() for v in [*before, "after"]]


async def test_stop_then_start_again(kafka_broker: KafkaBroker) -> None:
    topic = unique_topic("stopstart")
    await produce(kafka_broker.bootstrap, topic, ["x"])
    await kafka_broker.astop()
    assert not kafka_broker.is_running()
    await kafka_broker.astart()
    got = await consume_until(kafka_broker.bootstrap, topic, lambda rs: len(rs) >= 1)
    assert values(got) == [b"x"]


async def test_kill_then_start_keeps_acknowledged_records(kafka_broker: KafkaBroker) -> None:
    """SIGKILL (no clean shutdown, as the fault harness does it): what was acked with acks=all
    is there after the restart, on the same address."""
    topic = unique_topic("kill")
    await produce(kafka_broker.bootstrap, topic, [f"k{i}" for i in range(5)])
    pid = kafka_broker.pid()
    await asyncio.to_thread(kafka_broker.kill)
    assert pid is not None and not pid_alive(pid)
    assert not kafka_broker.is_running()
    await kafka_broker.astart()
    got = await consume_until(kafka_broker.bootstrap, topic, lambda rs: len(rs) >= 5)
    assert values(got) == [f"k{i}".encode() for i in range(5)]


def test_assemble_is_cached(kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once assembled, the jars are reused without Maven (here: Maven is not even on PATH)."""
    if os.environ.get("NEWSFLOW_TEST_BROKER"):
        pytest.skip("external broker: jars may never have been assembled here")
    monkeypatch.setenv("PATH", "/nonexistent")
    libs = assemble()
    assert (libs / ".complete").is_file()
    assert any(p.name.startswith("kafka_2.13-4.") for p in libs.iterdir())


def test_cli_start_status_stop(kafka_bootstrap: str, tmp_path: Path) -> None:
    """``newsflow broker kafka start`` leaves a background broker; status/stop find it."""
    if os.environ.get("NEWSFLOW_TEST_BROKER"):
        pytest.skip("external broker: no local Kafka assembly to start a second node from")
    data = tmp_path / "cli-kafka"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "workers.cli", "broker", "kafka", *args, "--data-dir"]
        return subprocess.run([*cmd, str(data)], capture_output=True, text=True, timeout=180)

    start = cli("start")
    try:
        assert start.returncode == 0, start.stderr
        bootstrap = start.stdout.strip()
        assert bootstrap.startswith("127.0.0.1:")
        assert bootstrap != kafka_bootstrap
        status = cli("status")
        assert status.returncode == 0 and status.stdout.strip() == bootstrap
        assert (data / "broker.pid").is_file()
    finally:
        stop = cli("stop")
    assert stop.returncode == 0, stop.stderr
    assert cli("status").returncode == 1
    assert not (data / "broker.pid").exists()
