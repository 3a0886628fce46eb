"""``newsflow export parquet`` on the real broker: kills at every kind of moment, hours, and the
README's DuckDB query against the worker's own counts."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from tests.helpers.crawl import offline_enriched
from tests.helpers.kafka import consume_until, create_topic, json_values, produce, unique_topic
from tests.helpers.worker import WorkerProcess
from workers.bench.corpus import generate_pages
from workers.export import files
from workers.export.parquet import ParquetExporter

ROOT = Path(__file__).resolve().parents[2]


def readme_query(out_dir: Path) -> str:
    """The README's "top entities per day" DuckDB query, pointed at ``out_dir``."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sql\n(.*?)```", readme, re.S)
    (query,) = [b for b in blocks if "read_parquet('out/mentions" in b]
    return query.replace("'out/", f"'{out_dir}/")


def _sql(query: str) -> list[Any]:
    return duckdb.execute(query).fetchall()


def exported(out_dir: Path) -> tuple[list[str], Counter[str]]:
    """(article ids, one per row; mention count per entity key) over every exported file."""
    ids = [r[0] for r in _sql(
        f"SELECT id FROM read_parquet('{out_dir}/articles/**/*.parquet', hive_partitioning=true)"
    )]  # fmt: skip
    if not list(out_dir.glob("mentions/**/*.parquet")):
        return ids, Counter()
    rows = _sql(
        f"SELECT entity_key, count(*) FROM read_parquet('{out_dir}/mentions/**/*.parquet', "
        "hive_partitioning=true) GROUP BY 1"
    )
    return ids, Counter(dict(rows))


@pytest.fixture(scope="module")
def enriched_topic(kafka_bootstrap: str) -> tuple[str, list[dict[str, Any]]]:
    """A 2-partition topic holding 30 enriched records (built by the pure stages) and a bad one."""
    records = offline_enriched(generate_pages(30, seed=5, kind="mixed"))
    topic = unique_topic("enriched")

    async def fill() -> None:
        await create_topic(kafka_bootstrap, topic, partitions=2)
        await produce(
            kafka_bootstrap,
            topic,
            [*records, b"not json"],
            keys=[r["id"] for r in records] + [b"bad"],
        )

    asyncio.run(fill())
    return topic, records


def _totals(records: list[dict[str, Any]]) -> Counter[str]:
    totals: Counter[str] = Counter()
    for r in records:
        totals.update(r["mentions"])
    return totals


class _Killed(Exception):
    pass


async def test_killed_between_rename_and_commit_resumes_after_the_durable_files(
    kafka_bootstrap: str, enriched_topic: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    topic, records = enriched_topic
    group = unique_topic("group")
    first = ParquetExporter(kafka_bootstrap, topic, tmp_path, group=group, rows_per_file=4)

    async def die(offsets: dict[Any, int]) -> None:
        raise _Killed  # the files of the flush are durable; the process "dies" here

    first._commit = die  # type: ignore[method-assign]
    with pytest.raises(_Killed):
        await first.run()
    ids, _ = exported(tmp_path)
    assert len(ids) >= 4  # durable files whose offsets were never committed
    # and a kill between the two renames of a next range: its mentions file alone
    (partition, last), *_ = (
        (p, files.durable_offset(tmp_path, topic, p)) for p in (0, 1)
        if files.durable_offset(tmp_path, topic, p) is not None
    )  # fmt: skip
    assert last is not None
    leftover = files.FileRange(topic, partition, last, last + 3, 0)
    files.write_pair(tmp_path, leftover, _rows_from(records[:1], partition, last))
    leftover.path(tmp_path, "articles").unlink()

    second = ParquetExporter(kafka_bootstrap, topic, tmp_path, group=group, rows_per_file=4)
    stats = await second.run()
    assert stats.articles == len(records) - len(ids)
    ids, totals = exported(tmp_path)
    assert sorted(ids) == sorted(r["id"] for r in records)  # each exactly once
    assert totals == _totals(records)
    assert not leftover.path(tmp_path, "mentions").exists()
    # and a third run finds nothing new
    third = ParquetExporter(kafka_bootstrap, topic, tmp_path, group=group, rows_per_file=4)
    assert (await third.run()).articles == 0


def _rows_from(records: list[dict[str, Any]], partition: int, offset: int) -> Any:
    from workers.export.rows import Rows

    rows = Rows()
    for r in records:
        rows.add(r, partition, offset, 0)
    return rows


async def test_files_split_by_hour_and_hold_contiguous_offsets(
    kafka_bootstrap: str, enriched_topic: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    _, records = enriched_topic
    topic = unique_topic("hours")
    await create_topic(kafka_bootstrap, topic, partitions=1)
    ten = 1718877600000  # 2024-06-20 10:00 UTC
    stamps = [ten + 3_599_000, ten + 3_600_500, ten + 3_599_500, ten + 3_601_000, ten + 7_300_000]
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for record, stamp in zip(records, stamps, strict=False):
            await producer.send_and_wait(topic, orjson.dumps(record), timestamp_ms=stamp)
    finally:
        await producer.stop()
    stats = await ParquetExporter(kafka_bootstrap, topic, tmp_path, group=topic).run()
    assert stats.articles == 5
    names = sorted(
        p.relative_to(tmp_path / "articles") for p in tmp_path.glob("articles/**/*.parquet")
    )
    assert [(str(n.parent), files.parse_name(n.name)[2:]) for n in names] == [  # type: ignore[index]
        ("date=2024-06-20/hour=10", (0, 0)),
        ("date=2024-06-20/hour=10", (2, 2)),
        ("date=2024-06-20/hour=11", (1, 1)),
        ("date=2024-06-20/hour=11", (3, 3)),
        ("date=2024-06-20/hour=12", (4, 4)),
    ]
    hours = _sql(
        f"SELECT hour, count(*) FROM read_parquet('{tmp_path}/articles/**/*.parquet', "
        "hive_partitioning=true) GROUP BY 1 ORDER BY 1"
    )
    assert hours == [(10, 2), (11, 2), (12, 1)]


def _api_totals(worker: WorkerProcess) -> Counter[str]:
    body = worker.get("/api/entities/top?limit=1000")
    return Counter({e["key"]: e["count"] for e in body["entities"]})


def _export_cmd(bootstrap: str, topic: str, out: Path, group: str, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "workers.cli", "export", "parquet", str(out), "--quiet",
        "--bootstrap", bootstrap, "--topic", topic, "--group", group, "--rows-per-file", "1",
        *extra,
    ]  # fmt: skip


def _articles_files(out: Path) -> int:
    return len(list(out.glob("articles/**/*.parquet")))


def _kill_after(cmd: list[str], files_at_least: int, extra_s: float) -> int:
    """Start the exporter, SIGKILL it once ``files_at_least`` articles files exist (plus
    ``extra_s``); returns its exit code (-9 when killed, 0 if it finished first)."""
    out = Path(cmd[cmd.index("parquet") + 1])
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while proc.poll() is None and _articles_files(out) < files_at_least:
        assert time.monotonic() < deadline, "the exporter wrote nothing"
        time.sleep(0.005)
    time.sleep(extra_s)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    return proc.returncode


def test_export_killed_mid_way_gives_each_article_once_and_the_workers_entity_totals(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    # ~600 distinct entities in all: every one fits in one /api/entities/top answer (1000)
    pages = list(generate_pages(16, seed=23, kind="mixed"))
    first, later = pages[:12], pages[12:]
    with WorkerProcess(kafka_bootstrap, tmp_path) as worker:
        topics = worker.topics

        def feed(batch: list[dict[str, Any]], total: int) -> list[dict[str, Any]]:
            asyncio.run(
                produce(kafka_bootstrap, topics["raw"], batch, keys=[p["url"] for p in batch])
            )
            return json_values(asyncio.run(consume_until(
                kafka_bootstrap, topics["enriched"], lambda rs: len(rs) >= total, timeout=180
            )))  # fmt: skip

        enriched = feed(first, len(first))
        out = tmp_path / "out"
        cmd = _export_cmd(kafka_bootstrap, topics["enriched"], out, f"export-{worker.name}")
        # SIGKILL once the first files are there: mid-way through the 12 one-article files
        assert _kill_after(cmd, 2, 0.0) == -signal.SIGKILL
        assert 2 <= len(exported(out)[0]) < len(first)
        # a following exporter picks up from the files, then keeps going with new records
        follow = subprocess.Popen(
            [*cmd, "--follow", "--flush-interval", "0.3"], stderr=subprocess.PIPE, text=True
        )
        _wait(lambda: len(exported(out)[0]) == len(first), "the rest of the first pages")
        enriched = feed(later, len(pages))
        _wait(lambda: len(exported(out)[0]) == len(pages), "the pages produced later")
        follow.send_signal(signal.SIGTERM)  # flush what it holds and stop
        _, err = follow.communicate(timeout=60)
        assert follow.returncode == 0, err
        expected = _totals(enriched)
        assert len(expected) < 1000
        _wait(lambda: _api_totals(worker) == expected, "the count tables")  # they trail a bit
        api = _api_totals(worker)
    ids, totals = exported(out)
    assert sorted(ids) == sorted(r["id"] for r in enriched)  # each article exactly once
    assert len(set(ids)) == len(pages)
    assert totals == api
    per_day = _sql(readme_query(out))
    assert per_day and all(row[3] >= 1 for row in per_day)
    days = {row[0] for row in per_day}
    assert len(days) > 1  # generated pages have publication dates over many days
    top = {day: count for day, _key, _name, count in reversed(per_day)}  # first row per day
    assert max(top.values()) <= max(totals.values())


def _wait(condition: Any, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)
