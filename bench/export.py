"""Benchmark of ``newsflow export parquet``: rows/s from a filled enriched topic to durable files.

Enriched records are built once by the worker's pure stages (clean + extract) from the
synthetic news pages of ``workers.bench.corpus`` and produced N times over (fresh ids) to a new
topic; then one ``ParquetExporter`` run (this process, one core for the Python work; the Parquet
writes run in a helper thread) reads it to the end and writes the files. Reported: article rows
and mention rows per second, wall and CPU (user+sys of this process, all threads): the machine
is shared, so the CPU rate is the steadier figure.

Usage (repo root, ``pip install -e '.[test]'``, a broker running):

    python bench/export.py --bootstrap 127.0.0.1:9092 [--records 20000] [--partitions 4]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers.crawl import offline_enriched
from tests.helpers.kafka import create_topic
from workers.bench.corpus import generate_pages
from workers.clients.producer import RawProducer
from workers.export.parquet import ParquetExporter


async def fill(bootstrap: str, topic: str, records: int, partitions: int) -> int:
    """Produce ``records`` enriched records (200 distinct bodies, fresh ids); return mentions."""
    base = offline_enriched(generate_pages(200, seed=31, kind="mixed"))
    await create_topic(bootstrap, topic, partitions=partitions)
    mentions = 0
    async with RawProducer(bootstrap, topic) as producer:
        for i in range(records):
            record = dict(base[i % len(base)])
            record["id"] = f"bench-export-{i:08d}"
            mentions += len(record["entities"])
            await producer.send(record)
    return mentions


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--partitions", type=int, default=4)
    args = ap.parse_args(argv)

    topic = f"bench-export.{uuid.uuid4().hex[:8]}"
    mentions = asyncio.run(fill(args.bootstrap, topic, args.records, args.partitions))
    print(f"{topic}: {args.records} records, {mentions} mentions, {args.partitions} partitions")
    with tempfile.TemporaryDirectory() as out:
        exporter = ParquetExporter(args.bootstrap, topic, out, group=topic)
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        stats = asyncio.run(exporter.run())
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        size = sum(p.stat().st_size for p in Path(out).rglob("*.parquet")) / 1e6
    assert stats.articles == args.records and stats.mentions == mentions, stats
    print(f"{stats.files} file pair(s), {size:.1f} MB (zstd); {wall:.2f} s wall, {cpu:.2f} s CPU")
    print("| table | rows | rows/s (wall) | rows/CPU-s |")
    print("|---|---:|---:|---:|")
    for name, rows in (("articles", stats.articles), ("mentions", stats.mentions)):
        print(f"| {name} | {rows} | {rows / wall:,.0f} | {rows / cpu:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
