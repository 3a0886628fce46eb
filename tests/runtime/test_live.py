"""What the web views read of the running worker (workers.runtime.live): table sizes and
snapshots of the partitions this worker owns, counted without decoding values and without
holding up the event loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from faust.types import TP

from workers.count import partition_for
from workers.runtime import live
from workers.runtime.app import create_app
from workers.runtime.live import TableSize, TableSnapshot
from workers.runtime.streams import acting_for
from workers.runtime.tables import declare_tables
from workers.settings import Settings

H0 = "2025-03-14T15"


def value(hours: dict[str, int]) -> dict:
    return {"total": sum(hours.values()), "hours": hours, "applied": {}}


class _Event:
    """Just what the rocksdb store reads of the current event: its partition."""

    def __init__(self, partition: int) -> None:
        self.message = SimpleNamespace(partition=partition)


class _KeysOnly(dict[str, Any]):
    """A table whose values must not be read: ``items`` fails, iterating the keys works."""

    scans = 0

    def items(self) -> Any:
        raise AssertionError("size() decoded the values")

    def __iter__(self) -> Iterator[str]:
        self.scans += 1
        return super().__iter__()


def test_table_size_counts_owned_keys_without_reading_values() -> None:
    keys = [f"PERSON:p{i}" for i in range(40)]
    table = _KeysOnly({k: value({H0: 1}) for k in keys})
    owned = [0, 1]
    snapshot = TableSnapshot(table, lambda: owned, 4, ttl=60.0)  # type: ignore[arg-type]
    expected = sum(1 for k in keys if partition_for(k, 4) in (0, 1))
    assert 0 < expected < len(keys)
    assert snapshot.size() == expected
    table["PERSON:new"] = value({H0: 1})
    assert snapshot.size() == expected and table.scans == 1  # within the ttl: no new scan
    owned = [0, 1, 2, 3]  # a rebalance: counted again at once
    assert snapshot.size() == len(keys) + 1 and table.scans == 2


def test_table_size_is_the_length_of_a_fresh_snapshot() -> None:
    table = {f"LOCATION:l{i}": value({H0: i + 1}) for i in range(10)}
    snapshot = TableSnapshot(table, lambda: [0, 1, 2, 3], 4, ttl=60.0)  # type: ignore[arg-type]
    assert snapshot.size() == 10
    table["LOCATION:new"] = value({H0: 1})
    snapshot._at = -1e18  # the snapshot is due: items() scans again, and size() follows it
    assert len(snapshot.items()) == 11 and snapshot.size() == 11


def test_table_size_of_a_rocksdb_table_counts_the_owned_partitions(tmp_path: Path) -> None:
    settings = Settings(app_id="size-test", data_dir=str(tmp_path), store="rocksdb://")
    app = create_app(settings)
    table = declare_tables(app, settings).entity_mentions
    keys = [f"PERSON:人{i}" for i in range(60)]
    for key in keys:  # each key in the rocksdb partition the count stage writes it to
        with acting_for(_Event(partition_for(key, 4))):  # type: ignore[arg-type]
            table.data[key] = value({H0: 1})
    changelog = table.changelog_topic.get_topic_name()
    owned = [1, 3]
    actives = {TP(changelog, p) for p in owned}
    app.assignor.assigned_actives = lambda: actives  # type: ignore[method-assign]
    snapshot = TableSnapshot(table, lambda: owned, 4, ttl=60.0)
    expected = sorted(k for k in keys if partition_for(k, 4) in owned)
    assert 0 < len(expected) < len(keys)
    assert snapshot.size() == len(expected)
    snapshot._at = -1e18
    assert sorted(k for k, _ in snapshot.items()) == expected  # the same keys as the values scan


class _SlowKeys(_KeysOnly):
    """A table whose key scan takes at least 20 ms."""

    def __iter__(self) -> Iterator[str]:
        time.sleep(0.02)
        return super().__iter__()


def test_a_slow_scan_is_spaced_by_its_own_cost_not_only_the_ttl() -> None:
    """Scans run in the event loop: one that took 20 ms waits >= 100 x 20 ms, even at ttl 0."""
    table = _SlowKeys({f"PERSON:p{i}": value({H0: 1}) for i in range(5)})
    snapshot = TableSnapshot(table, lambda: [0, 1, 2, 3], 4, ttl=0.0)  # type: ignore[arg-type]
    assert snapshot.size() == 5 and table.scans == 1
    table["PERSON:new"] = value({H0: 1})
    assert snapshot.size() == 5 and table.scans == 1  # not due yet: 2 s after a 20 ms scan
    snapshot.sizes._at -= 60.0  # much later
    assert snapshot.size() == 6 and table.scans == 2
    sizes = TableSize(table, ttl=0.0)  # type: ignore[arg-type]
    assert sizes.size() == 6 and table.scans == 3
    table["PERSON:newer"] = value({H0: 1})
    assert sizes.size() == 6 and table.scans == 3


def _rocksdb_table(tmp_path: Path, owned: list[int], n: int = 60) -> tuple[Any, list[str]]:
    """The entity table on rocksdb with ``n`` keys, each in the partition the count stage
    routes it to, and this worker assigned ``owned``."""
    settings = Settings(app_id="size-test", data_dir=str(tmp_path), store="rocksdb://")
    app = create_app(settings)
    table = declare_tables(app, settings).entity_mentions
    keys = [f"PERSON:人{i}" for i in range(n)]
    for key in keys:
        with acting_for(_Event(partition_for(key, 4))):  # type: ignore[arg-type]
            table.data[key] = value({H0: 1})
    changelog = table.changelog_topic.get_topic_name()
    actives = {TP(changelog, p) for p in owned}
    app.assignor.assigned_actives = lambda: actives  # type: ignore[method-assign]
    return table, [k for k in keys if partition_for(k, 4) in owned]


async def test_the_web_counts_a_rocksdb_table_a_chunk_per_loop_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big table's count must not hold up the records: other tasks run between chunks."""
    owned = [0, 1, 2]
    table, expected = _rocksdb_table(tmp_path, owned)
    monkeypatch.setattr(live, "COUNT_CHUNK", 10)
    steps = 0

    async def other_work() -> None:
        nonlocal steps
        while True:
            steps += 1
            await asyncio.sleep(0)

    ticker = asyncio.ensure_future(other_work())
    await asyncio.sleep(0)
    try:
        before = steps
        snapshot = TableSnapshot(table, lambda: owned, 4, ttl=60.0)
        assert await snapshot.asize() == len(expected) > 30
        assert steps - before >= len(expected) // 10  # the loop ran once per chunk at least
        sizes = TableSize(table, ttl=60.0)
        assert await sizes.asize() == len(expected)
        assert snapshot.size() == sizes.size() == len(expected)  # the same figure as in one go
    finally:
        ticker.cancel()


async def test_a_count_cut_short_by_a_rebalance_keeps_the_last_figure(tmp_path: Path) -> None:
    table, expected = _rocksdb_table(tmp_path, [0, 1, 2, 3])
    sizes = TableSize(table, ttl=0.0)
    assert await sizes.asize() == len(expected)
    store = table.data
    real = store._iterkeys

    def changing() -> Iterator[bytes]:
        yield from list(real())[:5]
        raise RuntimeError("dictionary changed size during iteration")

    store._iterkeys = changing
    sizes._cost = 0.0
    assert await sizes.asize() == len(expected)  # no error, the last count stands
    store._iterkeys = real
    assert await sizes.asize() == len(expected)
