"""workers.consumer on the real broker: an offset jump is re-read, a real gap is still skipped.

The jump is made the way Faust makes it around a rebalance: records fetched (the fetch
position moved past them) but never handed to the read loop (``tests/helpers/jump_app.py``).
Faust's own consumer is run on the same input as a control: it commits past the lost records,
which is the loss seen in the full fault run (docs/fault-tolerance.md).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from tests.helpers.kafka import create_topic, produce, unique_topic

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "tests" / "helpers" / "jump_app.py"


async def committed(bootstrap: str, group: str, topic: str) -> int | None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        return await consumer.committed(TopicPartition(topic, 0))
    finally:
        await consumer.stop()


async def run_app(
    bootstrap: str, topic: str, out: Path, kind: str, lose: tuple[int, int], end: int
) -> tuple[list[int], int | None]:
    """Run the app until it read the last record and committed ``end``; its offsets read and
    its last committed offset."""
    cmd = [sys.executable, str(APP), bootstrap, topic, str(out), kind, *map(str, lose)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    group = f"jump-{topic}"
    last: int | None = None
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            last = await committed(bootstrap, group, topic)
            if last == end:
                break
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    read = [int(line.split()[1]) for line in out.read_text().splitlines()] if out.exists() else []
    return read, last


async def test_offset_jump_is_reread_not_committed_past(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topic = unique_topic("jump")
    await create_topic(kafka_bootstrap, topic, 1)
    await produce(kafka_bootstrap, topic, [f"r{i}" for i in range(100)], partition=0)
    lost = set(range(11, 50))

    read, last = await run_app(kafka_bootstrap, topic, tmp_path / "ours", "newsflow", (11, 50), 100)
    assert set(read) == set(range(100)), sorted(set(range(100)) - set(read))
    assert last == 100

    # Control: Faust's own consumer on the same loss commits past records it never read.
    topic2 = unique_topic("jump")
    await create_topic(kafka_bootstrap, topic2, 1)
    await produce(kafka_bootstrap, topic2, [f"r{i}" for i in range(100)], partition=0)
    read, last = await run_app(kafka_bootstrap, topic2, tmp_path / "stock", "stock", (11, 50), 100)
    assert not lost & set(read) and max(read) == 99
    assert last == 100


async def test_real_gap_of_transaction_markers_is_skipped(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Each committed transaction leaves a marker offset that is never delivered: a real gap.
    The re-read must confirm it and move on (no endless re-reading, commits reach the end)."""
    topic = unique_topic("txgap")
    await create_topic(kafka_bootstrap, topic, 1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, transactional_id=topic)
    await producer.start()
    try:
        for t in range(10):
            async with producer.transaction():
                for i in range(3):
                    await producer.send_and_wait(topic, f"t{t}-{i}".encode(), partition=0)
    finally:
        await producer.stop()
    # 10 transactions of 3 records, each followed by its commit marker: offsets 0..39. The
    # commit reaches 39 (after the last record); the last marker is passed with the next record.
    read, last = await run_app(kafka_bootstrap, topic, tmp_path / "tx", "newsflow", (0, 0), 39)
    assert sorted(read) == [o for o in range(40) if o % 4 != 3]
    assert last == 39
