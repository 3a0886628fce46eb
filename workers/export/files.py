"""The exported files: their names, how one becomes durable, and what is already on disk.

Layout (Hive partitioning, read by DuckDB with ``hive_partitioning``)::

    DIR/articles/date=2024-06-20/hour=11/<topic>-<partition>-<first>-<last>.parquet
    DIR/mentions/date=2024-06-20/hour=11/<topic>-<partition>-<first>-<last>.parquet

One pair of files holds the records of **one Kafka partition, one contiguous offset range
[first, last], and one hour** (UTC, of the record's Kafka timestamp). Its name says which, and
its Parquet metadata says it again (``newsflow.*`` keys).

Durability (``write_pair``): each file is written to a hidden temporary name in its final
folder, fsynced, then renamed; the mentions file first, the articles file last, and the folders
are fsynced after. So an articles file on disk means the whole range [first, last] is durable,
and the exporter commits ``last + 1`` only after that. What a kill -9 can leave behind:

- temporary files, or a mentions file without its articles file (killed between the two
  renames): neither was committed, and ``clean_partition`` removes them;
- a durable pair whose offsets were not committed yet (killed between rename and commit):
  ``durable_offset`` finds it from the names, and the exporter resumes after it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workers.export.rows import ARTICLE_COLUMNS, MENTION_COLUMNS, Rows, TableColumns

TABLES = ("articles", "mentions")
_NAME = re.compile(r"^(?P<topic>.+)-(?P<part>\d{5})-(?P<first>\d{20})-(?P<last>\d{20})\.parquet$")
_TMP_SUFFIX = ".tmp"


@dataclass(frozen=True)
class FileRange:
    """Which records a pair of files holds."""

    topic: str
    partition: int
    first: int
    last: int
    hour: int  # hours since the epoch, UTC

    @property
    def name(self) -> str:
        return f"{self.topic}-{self.partition:05d}-{self.first:020d}-{self.last:020d}.parquet"

    @property
    def folder(self) -> str:
        start = dt.datetime.fromtimestamp(self.hour * 3600, dt.UTC)
        return f"date={start:%Y-%m-%d}/hour={start:%H}"

    def path(self, out_dir: Path, table: str) -> Path:
        return out_dir / table / self.folder / self.name


def parse_name(name: str) -> tuple[str, int, int, int] | None:
    """``(topic, partition, first, last)`` from a file name, or None if it is not one of ours."""
    m = _NAME.match(name)
    if m is None:
        return None
    return m["topic"], int(m["part"]), int(m["first"]), int(m["last"])


def _arrow_type(kind: str) -> Any:
    import pyarrow as pa

    kinds = {
        "string": pa.string(),
        "int32": pa.int32(),
        "int64": pa.int64(),
        "time": pa.timestamp("us", tz="UTC"),
        "time_ms": pa.timestamp("ms", tz="UTC"),
    }
    return kinds[kind]


def schema(table: str) -> Any:
    """The Arrow schema of ``articles`` or ``mentions``."""
    import pyarrow as pa

    types = ARTICLE_COLUMNS if table == "articles" else MENTION_COLUMNS
    return pa.schema([(name, _arrow_type(kind)) for name, kind in types.items()])


def _table(columns: TableColumns, name: str, meta: dict[str, str]) -> Any:
    import pyarrow as pa

    target = schema(name)
    arrays = [pa.array(columns.columns[f.name], f.type) for f in target]
    return pa.Table.from_arrays(arrays, schema=target.with_metadata(meta))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_dirs(path: Path) -> None:
    """``mkdir -p`` that also makes each new folder's entry durable (fsync of its parent)."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir(exist_ok=True)
        _fsync_dir(folder.parent)


def _write_durable(table: Any, final: Path, compression: str) -> Path:
    """Write ``table`` under a temporary name next to ``final`` and fsync it; return it."""
    import pyarrow.parquet as pq

    _make_dirs(final.parent)
    tmp = final.with_name(f".{final.name}{_TMP_SUFFIX}")
    with tmp.open("wb") as fh:
        pq.write_table(table, fh, compression=compression)
        fh.flush()
        os.fsync(fh.fileno())
    return tmp


def write_pair(out_dir: Path, file_range: FileRange, rows: Rows, compression: str = "zstd") -> Path:
    """Make the pair of files of one range durable (see the module docstring); return the
    articles file. A range without mentions has an articles file only."""
    meta = {
        "newsflow.topic": file_range.topic,
        "newsflow.partition": str(file_range.partition),
        "newsflow.first_offset": str(file_range.first),
        "newsflow.last_offset": str(file_range.last),
    }
    articles = file_range.path(out_dir, "articles")
    mentions = file_range.path(out_dir, "mentions")
    staged: list[tuple[Path, Path]] = []
    if rows.mentions.rows:
        table = _table(rows.mentions, "mentions", meta)
        staged.append((_write_durable(table, mentions, compression), mentions))
    table = _table(rows.articles, "articles", meta)
    staged.append((_write_durable(table, articles, compression), articles))
    for tmp, final in staged:  # mentions first: an articles file means the pair is whole
        os.replace(tmp, final)
    for folder in {final.parent for _, final in staged}:
        _fsync_dir(folder)
    return articles


def _ours(out_dir: Path, table: str, topic: str, partition: int) -> list[Path]:
    """The durable files of one table for one partition of ``topic``."""
    found = []
    for path in (out_dir / table).glob(f"date=*/hour=*/{topic}-{partition:05d}-*.parquet"):
        parsed = parse_name(path.name)
        if parsed is not None and parsed[:2] == (topic, partition):
            found.append(path)
    return sorted(found)


def clean_partition(out_dir: Path, topic: str, partition: int) -> list[Path]:
    """Remove what a killed exporter left for one partition: temporary files and mentions
    files without their articles file. Returns what was removed."""
    removed = []
    for table in TABLES:
        pattern = f"date=*/hour=*/.{topic}-{partition:05d}-*.parquet{_TMP_SUFFIX}"
        for tmp in (out_dir / table).glob(pattern):
            parsed = parse_name(tmp.name[1 : -len(_TMP_SUFFIX)])
            if parsed is not None and parsed[:2] == (topic, partition):
                tmp.unlink(missing_ok=True)
                removed.append(tmp)
    for path in _ours(out_dir, "mentions", topic, partition):
        twin = out_dir / "articles" / path.parent.relative_to(out_dir / "mentions") / path.name
        if not twin.exists():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def durable_offset(out_dir: Path, topic: str, partition: int) -> int | None:
    """The offset after the last durable range of one partition (None: it has no files)."""
    lasts = [parse_name(p.name) for p in _ours(out_dir, "articles", topic, partition)]
    return max((parsed[3] + 1 for parsed in lasts if parsed is not None), default=None)
