"""The tables' rocksdb store, with one memory budget for the whole worker process.

Faust opens one rocksdb per table partition (4 tables x N partitions here), each with its own
block cache (2 GB by default) and memtables (3 x 64 MB), and keeps index and filter blocks
outside any cache. So the worker's memory grew with the partitions it owned and with the data
it had written (docs/benchmark.md, "Memory"). Here every rocksdb of the process
shares one LRU cache; memtables are charged to that cache (one write-buffer manager) and
index/filter blocks live in it too, so the store's memory is bounded by one number
(``NEWSFLOW_STORE_MEMORY_MB``) whatever the partitions or the data.

Selected by the store URL ``rocksdb://`` (``store_url``); the files on disk are Faust's.
"""

from __future__ import annotations

import threading
from typing import Any

import rocksdict
from faust.stores import rocksdb as faust_rocksdb

#: Memtable bytes per DB before a flush (small: writes are a few MB/s and every flush is cheap).
WRITE_BUFFER_BYTES = 2 << 20

_lock = threading.Lock()
_shared: dict[str, Any] = {}


def configure(memory_bytes: int) -> None:
    """Set the process-wide budget (block cache, memtables, index and filter blocks); call
    before the first table partition opens. Later calls change the budget."""
    with _lock:
        cache = _shared.get("cache")
        if cache is None:
            cache = _shared["cache"] = rocksdict.Cache(memory_bytes)
            # memtables may use up to half the budget; their memory is charged to the cache
            _shared["write_buffers"] = (
                rocksdict.WriteBufferManager.new_write_buffer_manager_with_cache(
                    memory_bytes // 2, False, cache
                )
            )
        else:
            cache.set_capacity(memory_bytes)
            _shared["write_buffers"].set_buffer_size(memory_bytes // 2)
        _shared["bytes"] = memory_bytes


def usage() -> dict[str, int]:
    """Bytes in the shared cache now (memtables included) and the budget (what the tests check)."""
    with _lock:
        cache = _shared.get("cache")
        if cache is None:
            return {"budget": 0, "used": 0}
        return {"budget": int(_shared["bytes"]), "used": int(cache.get_usage())}


def _shared_parts() -> tuple[Any, Any]:
    if "cache" not in _shared:
        configure(64 << 20)
    return _shared["cache"], _shared["write_buffers"]


class BoundedOptions(faust_rocksdb.RocksDBOptions):
    """Faust's rocksdict options, with the process-wide cache and write-buffer manager."""

    def as_options(self) -> Any:
        cache, write_buffers = _shared_parts()
        options = rocksdict.Options(raw_mode=True)
        options.create_if_missing(True)
        options.set_max_open_files(self.max_open_files or -1)
        options.set_write_buffer_size(WRITE_BUFFER_BYTES)
        options.set_max_write_buffer_number(2)
        options.set_target_file_size_base(self.target_file_size_base)
        options.set_write_buffer_manager(write_buffers)
        table = rocksdict.BlockBasedOptions()
        table.set_bloom_filter(self.bloom_filter_size, True)
        table.set_block_cache(cache)
        table.set_cache_index_and_filter_blocks(True)
        table.set_pin_l0_filter_and_index_blocks_in_cache(True)
        table.set_index_type(rocksdict.BlockBasedIndexType.binary_search())
        options.set_block_based_table_factory(table)
        return options


class BoundedRocksDBStore(faust_rocksdb.Store):
    """Faust's rocksdb store (rocksdict driver) opening its DBs with ``BoundedOptions``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.use_rocksdict:
            self.rocksdb_options = BoundedOptions(**(self.options or {}), use_rocksdict=True)


#: The scheme ``store_class`` maps ``rocksdb://`` to (registered with Faust's store registry).
SCHEME = "newsflow-rocksdb"


def store_url(url: str) -> str:
    """The store URL to give Faust: ``rocksdb://...`` becomes our bounded store, anything
    else (``memory://``) is passed through."""
    from faust.stores import STORES

    if url.startswith("rocksdb:"):
        STORES.aliases.setdefault(SCHEME, f"{__name__}:BoundedRocksDBStore")
        return SCHEME + url[len("rocksdb") :]
    return url
