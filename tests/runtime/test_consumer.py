"""workers.runtime.consumer on the real broker: records fetched and lost before their hand-over are
read again wherever they fall (middle, head of a new group, the committed offset itself after a
restart, the end of a partition), and real gaps (transaction markers) are still crossed.

The loss is made the way Faust makes it around a rebalance: records fetched (the fetch
position moved past them) but never handed to the read loop (``tests/helpers/jump_app.py``).
Faust's own consumer is run on the same input as a control where it commits past the lost
records, which is the loss seen in the fault runs (docs/fault-tolerance.md).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from tests.helpers.kafka import create_topic, produce, unique_topic

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "tests" / "helpers" / "jump_app.py"
GATE_APP = REPO / "tests" / "helpers" / "gate_app.py"


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


def seeks_on_main_thread(out: Path) -> tuple[int, int]:
    """(seeks made, of them on the main thread) by the app that wrote ``out``."""
    lines = Path(f"{out}.seeks").read_text().split() if Path(f"{out}.seeks").exists() else []
    return len(lines), lines.count("main")


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
    seeks, on_main = seeks_on_main_thread(tmp_path / "ours")
    assert seeks and not on_main  # the re-read seeks on the consumer's thread

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


async def test_a_lost_head_of_a_new_group_is_reread(kafka_bootstrap: str, tmp_path: Path) -> None:
    """No committed offset yet: Faust skips its head-of-partition check then (and after a
    revocation), so acked offsets 17..99 made it commit 100 with 0..16 never read."""
    topic = unique_topic("head")
    await create_topic(kafka_bootstrap, topic, 1)
    await produce(kafka_bootstrap, topic, [f"r{i}" for i in range(100)], partition=0)
    read, last = await run_app(kafka_bootstrap, topic, tmp_path / "ours", "newsflow", (0, 17), 100)
    assert set(read) == set(range(100)), sorted(set(range(100)) - set(read))
    assert last == 100

    topic2 = unique_topic("head")
    await create_topic(kafka_bootstrap, topic2, 1)
    await produce(kafka_bootstrap, topic2, [f"r{i}" for i in range(100)], partition=0)
    read, last = await run_app(kafka_bootstrap, topic2, tmp_path / "stock", "stock", (0, 17), 100)
    assert not set(range(17)) & set(read)  # control: Faust commits past the lost head
    assert last == 100


async def test_the_record_at_the_committed_offset_is_not_skipped_after_a_restart(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """After the seek to the committed offset C, Faust's read offset says C was read: when
    C+1 came first, the jump looked like 1 and C was skipped (and committed past)."""
    topic = unique_topic("seek")
    await create_topic(kafka_bootstrap, topic, 1)
    await produce(kafka_bootstrap, topic, [f"r{i}" for i in range(50)], partition=0)
    read, last = await run_app(kafka_bootstrap, topic, tmp_path / "one", "newsflow", (0, 0), 50)
    assert last == 50 and set(read) == set(range(50))
    await produce(kafka_bootstrap, topic, [f"r{i}" for i in range(50, 100)], partition=0)
    read, last = await run_app(kafka_bootstrap, topic, tmp_path / "two", "newsflow", (50, 51), 100)
    assert set(read) == set(range(50, 100)), sorted(set(range(50, 100)) - set(read))
    assert last == 100


async def test_records_lost_at_the_end_of_a_partition_are_read_again(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """No record comes after the lost ones to show a jump: the stall check reads them again
    (Faust's own consumer would leave them unread, committed before them, until more came)."""
    topic = unique_topic("tail")
    await create_topic(kafka_bootstrap, topic, 1)
    await produce(kafka_bootstrap, topic, [f"r{i}" for i in range(100)], partition=0)
    read, last = await run_app(
        kafka_bootstrap, topic, tmp_path / "ours", "newsflow", (90, 100), 100
    )
    assert set(read) == set(range(100)), sorted(set(range(100)) - set(read))
    assert last == 100
    seeks, on_main = seeks_on_main_thread(tmp_path / "ours")
    assert seeks and not on_main  # the stall re-read seeks on the consumer's thread


async def test_no_commit_past_records_whose_table_changelog_was_not_delivered(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Faust flushes the producer before a commit, but its flush gives up after 0.1 s and a
    failed send is only logged: the input was committed although the table's changelog never
    got the records. Here the commit waits for delivery, and a failed changelog record stops
    the worker with nothing committed past it."""
    topic = unique_topic("gate")
    await create_topic(kafka_bootstrap, topic, 1)
    changelog = f"gate-{topic}-state-changelog"
    await create_topic(
        kafka_bootstrap, changelog, 1, {"max.message.bytes": "200", "cleanup.policy": "compact"}
    )
    await produce(kafka_bootstrap, topic, [f"r{i}" for i in range(20)], partition=0)
    cmd = [sys.executable, str(GATE_APP), kafka_bootstrap, topic, str(tmp_path)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        code = proc.wait(120)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    assert code != 0, err[-2000:]
    assert "a table changelog record failed" in err
    assert not await committed(kafka_bootstrap, f"gate-{topic}", topic)
