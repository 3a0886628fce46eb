"""The bounded rocksdb store: one memory budget for every table partition of the worker."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from workers.runtime import store
from workers.runtime.app import create_app
from workers.runtime.tables import declare_tables
from workers.settings import Settings


def test_rocksdb_tables_use_the_bounded_store(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path), store="rocksdb://")
    app = create_app(settings)
    tables = declare_tables(app, settings)
    for table in (tables.articles, tables.entity_mentions, tables.type_mentions, tables.recrawl):
        assert isinstance(table.data, store.BoundedRocksDBStore)
        assert isinstance(table.data.rocksdb_options, store.BoundedOptions)


def test_memory_store_is_passed_through(tmp_path: Path) -> None:
    assert store.store_url("memory://") == "memory://"
    assert store.store_url("rocksdb://") == "newsflow-rocksdb://"


def test_many_partitions_share_one_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Writing 48 MB into 12 DBs keeps the cache (memtables charged to it) within the budget;
    with Faust's defaults each DB alone could hold 3 x 64 MB of memtables. The budget is set
    before the first DB opens, as the worker does (a fresh cache: earlier tests made one)."""
    monkeypatch.setattr(store, "_shared", {})
    budget = 16 << 20
    store.configure(budget)
    options = store.BoundedOptions(use_rocksdict=True)
    dbs = [options.open(tmp_path / f"p{i}") for i in range(12)]
    try:
        value = b"x" * 4000
        for i, db in enumerate(dbs):
            for n in range(1000):
                db[f"{i}:{n}".encode()] = value
        # The write-buffer manager asks for a flush on the write that passes its share (half
        # the budget); it does not stall writers, and memtables stay charged until their flush
        # ends, so the cache can stand a little above the budget after the last write. Far
        # below Faust's defaults either way: 12 DBs x 3 x 64 MB of memtables alone.
        deadline = time.monotonic() + 15
        used = store.usage()
        while used["used"] > budget * 1.1 and time.monotonic() < deadline:
            time.sleep(0.1)
            used = store.usage()
        assert used["budget"] == budget
        assert 0 < used["used"] <= budget * 1.5
        assert dbs[3][b"3:999"] == value
    finally:
        for db in dbs:
            db.close()
        store.configure(64 << 20)


@pytest.mark.parametrize("mb", [1, 8])
def test_budget_can_be_changed(mb: int) -> None:
    store.configure(mb << 20)
    try:
        assert store.usage()["budget"] == mb << 20
    finally:
        store.configure(64 << 20)
