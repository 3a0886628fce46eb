"""Benchmark of WARC input: FastWARC against warcio, then ``newsflow produce``'s reader and the
producer, in records/s on one core.

A ``.warc.gz`` (one gzip member per record, as crawlers write it) is built with warcio from the
synthetic news pages of ``workers.bench.corpus`` (HTML, ~10 KB a page): per page a request and a
response record, like a crawl. Each row times one pass over the whole file in this process
(one thread, so one core) and reports wall and CPU (user+sys of this process) rates; the
machine is shared, so the CPU rate is the steadier figure.

- ``fastwarc``: iterate, parse the HTTP headers, read every payload (the library alone);
- ``warcio``: the same with warcio's ``ArchiveIterator`` and ``content_stream()``;
- ``reader``: ``WarcReader.pages`` (FastWARC + filters + payload digest + charset decoding), the
  raw-article dicts ``newsflow produce`` sends;
- ``produce`` (with ``--bootstrap``): the reader and ``RawProducer`` to a fresh topic on a real
  broker, every page acknowledged (acks=all).

Usage (repo root, ``pip install -e '.[test]'``):

    python bench/warc.py [--pages 5000] [--bootstrap 127.0.0.1:9092] [--keep FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workers.bench.corpus import generate_pages
from workers.clients.producer import RawProducer
from workers.clients.warc import WarcReader


def build_warc(path: Path, pages: int) -> int:
    """Write ``pages`` request+response pairs; return the record count."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    records = 0
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for page in generate_pages(pages, seed=19, kind="html"):
            url = page["url"]
            request = StatusAndHeaders(
                f"GET {url.split('/', 3)[3]} HTTP/1.1", [("Host", "news.example.jp")],
                is_http_request=True,
            )  # fmt: skip
            writer.write_record(
                writer.create_warc_record(url, "request", payload=io.BytesIO(b""),
                                          http_headers=request)
            )  # fmt: skip
            body = page["body"].encode()
            headers = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html; charset=utf-8"),
                           ("Content-Length", str(len(body)))], protocol="HTTP/1.1",
            )  # fmt: skip
            writer.write_record(
                writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                          http_headers=headers)
            )  # fmt: skip
            records += 2
    return records


def read_fastwarc(path: Path) -> int:
    from fastwarc.warc import ArchiveIterator

    n = 0
    with path.open("rb") as fh:
        for record in ArchiveIterator(fh, parse_http=True):
            record.reader.read()
            n += 1
    return n


def read_warcio(path: Path) -> int:
    from warcio.archiveiterator import ArchiveIterator

    n = 0
    with path.open("rb") as fh:
        for record in ArchiveIterator(fh):
            record.content_stream().read()
            n += 1
    return n


def read_pages(path: Path) -> int:
    reader = WarcReader()
    for _ in reader.pages(path):
        pass
    return reader.stats.records


def produce(path: Path, bootstrap: str) -> int:
    async def run() -> int:
        reader = WarcReader()
        async with RawProducer(bootstrap, f"bench-warc.{uuid.uuid4().hex[:8]}") as producer:
            for page in reader.pages(path):
                await producer.send(page)
        assert producer.acked == reader.stats.pages
        return reader.stats.records

    return asyncio.run(run())


def timed(fn: Callable[[], int], repeat: int) -> tuple[int, float, float]:
    """Best of ``repeat``: (records, wall s, CPU s)."""
    best: tuple[int, float, float] | None = None
    for _ in range(repeat):
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        n = fn()
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        if best is None or cpu < best[2]:
            best = (n, wall, cpu)
    assert best is not None
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--pages", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--bootstrap", help="a Kafka broker for the produce row")
    ap.add_argument("--keep", type=Path, help="write the WARC here (else a temp file)")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "bench.warc.gz"
        records = build_warc(path, args.pages)
        size_mb = path.stat().st_size / 1e6
        print(f"{path.name}: {records} records ({args.pages} pages), {size_mb:.1f} MB gzipped")
        rows: list[tuple[str, Callable[[], int]]] = [
            ("fastwarc", lambda: read_fastwarc(path)),
            ("warcio", lambda: read_warcio(path)),
            ("reader", lambda: read_pages(path)),
        ]
        if args.bootstrap:
            rows.append(("produce", lambda: produce(path, args.bootstrap)))
        print("| row | records | wall s | records/s (wall) | CPU s | records/CPU-s |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, fn in rows:
            n, wall, cpu = timed(fn, 1 if name == "produce" else args.repeat)
            assert n == records, (name, n, records)
            print(f"| {name} | {n} | {wall:.2f} | {n / wall:,.0f} | {cpu:.2f} | {n / cpu:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
