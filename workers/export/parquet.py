"""``newsflow export parquet DIR``: the enriched topic as hourly-partitioned Parquet files.

    newsflow export parquet out/              # everything up to the end of the topic, then exit
    newsflow export parquet out/ --follow     # and keep going (SIGINT/SIGTERM: flush and stop)

It consumes ``articles.enriched`` in its own consumer group (``--group``, default
``newsflow-export-parquet``; several exporters in one group share the partitions) and writes
the ``articles`` and ``mentions`` tables (``rows.py``) under DIR (layout and durability:
``files.py``).

Exactly once under kill -9: records are gathered per partition; a batch is closed when its hour
changes, when it holds ``--rows-per-file`` articles or ``--max-batch-mb`` of text, after
``--flush-interval`` seconds, and at the end of the topic. A closed batch is written, fsynced and
renamed into place, and only then is ``last offset + 1`` committed. On every partition
assignment the exporter removes what a killed run left half-written and resumes at the later of
the committed offset and the end of the last durable file, so a kill between rename and commit
neither loses nor repeats a record: the file names carry the offset ranges.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from workers.export.files import FileRange, clean_partition, durable_offset, write_pair
from workers.export.rows import Rows

log = logging.getLogger("newsflow.export")

DEFAULT_GROUP = "newsflow-export-parquet"


@dataclass
class ExportStats:
    """What one run exported."""

    articles: int = 0
    mentions: int = 0
    files: int = 0
    #: records that were not an enriched article (not JSON, no id, a tombstone), by reason
    skipped: dict[str, int] = field(default_factory=dict)
    #: partition -> (first offset, next offset) exported by this run
    ranges: dict[int, tuple[int, int]] = field(default_factory=dict)

    def summary(self, out_dir: Path) -> str:
        parts = ", ".join(f"p{p} {a}..{b - 1}" for p, (a, b) in sorted(self.ranges.items()))
        line = (
            f"exported {self.articles} article(s), {self.mentions} mention(s) in "
            f"{self.files} file pair(s) to {out_dir}" + (f" ({parts})" if parts else "")
        )
        if self.skipped:
            line += "; skipped " + ", ".join(f"{k}: {n}" for k, n in self.skipped.items())
        return line


@dataclass
class _Batch:
    partition: int
    hour: int
    first: int
    last: int = -1
    opened: float = field(default_factory=time.monotonic)
    rows: Rows = field(default_factory=Rows)


class ParquetExporter:
    """The consumer behind ``newsflow export parquet`` (see the module docstring)."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        out_dir: str | Path,
        *,
        group: str = DEFAULT_GROUP,
        follow: bool = False,
        rows_per_file: int = 50_000,
        max_batch_bytes: int = 256 * 1024 * 1024,
        flush_interval_s: float = 60.0,
        client_options: dict[str, Any] | None = None,
        on_rows: Callable[[int], None] | None = None,
    ) -> None:
        from workers.endpoints import bootstrap_of

        self.bootstrap = bootstrap_of(bootstrap)
        self.topic = topic
        self.out_dir = Path(out_dir)
        self.group = group
        self.follow = follow
        self.rows_per_file = rows_per_file
        self.max_batch_bytes = max_batch_bytes
        self.flush_interval_s = flush_interval_s
        self.client_options = client_options or {}
        self.on_rows = on_rows
        self.stats = ExportStats()
        self._consumer: Any = None
        self._batches: dict[int, _Batch] = {}
        self._closed: list[_Batch] = []
        self._owned: set[int] = set()
        self._ends: dict[int, int] = {}
        self._assigned_once = False
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()

    def stop(self) -> None:
        """Ask a running export to flush what it holds and return (signal handlers)."""
        self._stop.set()

    async def run(self) -> ExportStats:
        """Export until the end of the topic (or, with ``follow``, until :meth:`stop`)."""
        from aiokafka import AIOKafkaConsumer

        await asyncio.to_thread(self.out_dir.mkdir, parents=True, exist_ok=True)
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_partition_fetch_bytes=16 * 1024 * 1024,
            **self.client_options,
        )
        await self._consumer.start()
        try:
            await self._check_topic()
            self._consumer.subscribe([self.topic], listener=_listener(self))
            await self._loop()
            async with self._lock:
                await self._flush(list(self._batches.values()))
        finally:
            await self._consumer.stop()
        return self.stats

    async def _check_topic(self) -> None:
        topics = await self._consumer.topics()
        if self.topic not in topics:
            raise SystemExit(
                f"newsflow export: topic {self.topic!r} does not exist on {self.bootstrap}"
            )

    async def _loop(self) -> None:
        while not self._stop.is_set():
            fetched = await self._consumer.getmany(timeout_ms=500, max_records=5000)
            async with self._lock:
                assigned = {tp.partition for tp in self._consumer.assignment()}
                fresh = assigned - self._owned
                if fresh:  # what was fetched for them may precede a durable file: dropped
                    await self._prepare(fresh)
                for tp, records in fetched.items():
                    if tp.partition in self._owned and tp.partition not in fresh:
                        for record in records:
                            self._add(tp.partition, record)
                self._close_due()
                if self._closed:
                    await self._flush(self._closed)
            if not self.follow and self._assigned_once and await self._at_end():
                return

    def _add(self, partition: int, record: Any) -> None:
        hour = record.timestamp // 3_600_000
        batch = self._batches.get(partition)
        if batch is not None and batch.hour != hour:
            self._closed.append(self._batches.pop(partition))
            batch = None
        if batch is None:
            batch = self._batches[partition] = _Batch(partition, hour, record.offset)
        batch.last = record.offset
        reason = _add_record(batch.rows, record)
        if reason is not None:
            self.stats.skipped[reason] = self.stats.skipped.get(reason, 0) + 1
        elif self.on_rows is not None:
            self.on_rows(1)
        if batch.rows.articles.rows >= self.rows_per_file:
            self._closed.append(self._batches.pop(partition))

    def _close_due(self) -> None:
        """Close every batch when together they hold too much, and each old enough."""
        now = time.monotonic()
        held = sum(b.rows.size for b in self._batches.values())
        for partition, batch in list(self._batches.items()):
            if held >= self.max_batch_bytes or now - batch.opened >= self.flush_interval_s:
                self._closed.append(self._batches.pop(partition))

    async def _at_end(self) -> bool:
        """Every assigned partition read up to where it ended when it was assigned."""
        assigned = {tp.partition for tp in self._consumer.assignment()}
        if assigned - self._owned:
            return False
        for partition in assigned:
            end = self._ends.get(partition)
            if end is None:
                return False
            tp = _tp(self.topic, partition)
            if await self._consumer.position(tp) < end:
                return False
        return True

    async def _flush(self, batches: list[_Batch]) -> None:
        """Write the batches' files durably, then commit past them. Holds ``_lock``."""
        batches = [b for b in batches if b.last >= b.first]
        self._closed = []
        if not batches:
            return
        offsets: dict[Any, int] = {}
        for batch in batches:
            if batch.rows.articles.rows:
                file_range = FileRange(
                    self.topic, batch.partition, batch.first, batch.last, batch.hour
                )
                await asyncio.to_thread(write_pair, self.out_dir, file_range, batch.rows)
                self.stats.files += 1
                self.stats.articles += batch.rows.articles.rows
                self.stats.mentions += batch.rows.mentions.rows
            tp = _tp(self.topic, batch.partition)
            offsets[tp] = max(offsets.get(tp, 0), batch.last + 1)
            first, _ = self.stats.ranges.get(batch.partition, (batch.first, 0))
            self.stats.ranges[batch.partition] = (first, batch.last + 1)
        await self._commit(offsets)

    async def _commit(self, offsets: dict[Any, int]) -> None:
        from aiokafka.errors import KafkaError

        try:
            await self._consumer.commit(offsets)
        except KafkaError as exc:  # the files are durable: the next assignment resumes past them
            log.warning("commit of %s failed (%s); the files carry the offsets", offsets, exc)

    async def _prepare(self, partitions: set[int]) -> None:
        """Newly owned partitions: remove what a killed run left half-written, then resume at
        the latest of the committed offset, the end of the last durable file and the start of
        the log. Holds ``_lock``."""
        tps = [_tp(self.topic, p) for p in sorted(partitions)]
        starts = await self._consumer.beginning_offsets(tps)
        ends = await self._consumer.end_offsets(tps)
        catch_up: dict[Any, int] = {}
        for tp in tps:
            removed = await asyncio.to_thread(
                clean_partition, self.out_dir, self.topic, tp.partition
            )
            if removed:
                log.info("partition %d: removed %d unfinished file(s)", tp.partition, len(removed))
            durable = await asyncio.to_thread(
                durable_offset, self.out_dir, self.topic, tp.partition
            )
            committed = await self._consumer.committed(tp)
            if durable is None and committed:
                log.warning(
                    "partition %d: no files of it in %s, but group %r committed offset %d: "
                    "starting there (a full export into a new folder wants a new --group)",
                    tp.partition, self.out_dir, self.group, committed,
                )  # fmt: skip
            if durable is not None and durable > (committed or 0):
                catch_up[tp] = durable  # killed between rename and commit
            resume = max(o for o in (durable, committed, starts[tp]) if o is not None)
            self._consumer.seek(tp, resume)
            self._ends[tp.partition] = ends[tp]
        self._owned |= partitions
        if catch_up:
            await self._commit(catch_up)

    async def on_revoked(self, partitions: set[int]) -> None:
        """Drop what is held for partitions given away (not committed: the next owner reads
        them again); waits for a flush in progress to finish first."""
        async with self._lock:
            for partition in partitions:
                self._batches.pop(partition, None)
            self._closed = [b for b in self._closed if b.partition not in partitions]
            self._owned -= partitions

    def on_assigned(self, partitions: set[int]) -> None:
        """The group has joined (``_loop`` prepares the partitions it got)."""
        self._assigned_once = True


def _add_record(rows: Rows, record: Any) -> str | None:
    """Add one Kafka record's rows; the reason it was skipped, or None."""
    if record.value is None:
        return "tombstone"
    try:
        article = orjson.loads(record.value)
    except orjson.JSONDecodeError:
        return "not JSON"
    if not isinstance(article, dict) or not article.get("id"):
        return "not an enriched article"
    try:
        rows.add(article, record.partition, record.offset, record.timestamp)
    except (KeyError, TypeError, ValueError):
        return "not an enriched article"
    return None


def _tp(topic: str, partition: int) -> Any:
    from aiokafka import TopicPartition

    return TopicPartition(topic, partition)


def _listener(exporter: ParquetExporter) -> Any:
    """An aiokafka rebalance listener calling the exporter with partition numbers."""
    from aiokafka import ConsumerRebalanceListener

    class Listener(ConsumerRebalanceListener):
        async def on_partitions_revoked(self, revoked: Any) -> None:
            await exporter.on_revoked({tp.partition for tp in revoked})

        async def on_partitions_assigned(self, assigned: Any) -> None:
            exporter.on_assigned({tp.partition for tp in assigned})

    return Listener()


def run_cli(args: Any, bootstrap: str, topic: str, client_options: dict[str, Any]) -> int:
    """``newsflow export parquet``: run an export in the foreground with a progress bar."""
    import signal

    from tqdm import tqdm

    with tqdm(unit="article", disable=args.quiet, file=sys.stderr) as bar:
        exporter = ParquetExporter(
            bootstrap,
            topic,
            args.dir,
            group=args.group,
            follow=args.follow,
            rows_per_file=args.rows_per_file,
            max_batch_bytes=int(args.max_batch_mb * 1024 * 1024),
            flush_interval_s=args.flush_interval,
            client_options=client_options,
            on_rows=bar.update,
        )

        async def main() -> ExportStats:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, exporter.stop)
            return await exporter.run()

        stats = asyncio.run(main())
    print(stats.summary(Path(args.dir)), file=sys.stderr)
    return 0
