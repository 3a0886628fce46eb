"""What the web views read from the running worker: consumer lag, cached table snapshots and
answers from the other workers. Kept apart from ``views.py`` so the views stay thin."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import faust
from faust.stores.base import SerializedStore
from faust.types import TableT
from yarl import URL

from workers.count import partition_for

log = logging.getLogger("newsflow.web")

#: A table scan runs in the event loop, so it is repeated at most once per this many times its
#: own duration (at most 1 % of the loop), however short the ttl and large the table.
SCAN_SPACING = 100


#: Keys counted per event-loop step when the web's async path counts a table (a short step).
COUNT_CHUNK = 5_000


def _due(now: float, at: float, ttl: float, cost: float) -> bool:
    """Whether a scan done at ``at`` that took ``cost`` seconds may be redone at ``now``."""
    return now - at >= max(ttl, cost * SCAN_SPACING)


def _key_chunks(store: SerializedStore, chunk: int | None = None) -> Iterator[int]:
    """Keys of a rocksdb-backed table's active partitions, counted ``chunk`` at a time.

    Faust keeps one rocksdb per table partition and iterates only those of the partitions this
    worker is assigned (``_iterkeys``), and the count stage writes every key into the database
    of the partition it routed the key to; so a raw key count is the owned keys' count, with no
    key decoded (decoding each key to find its partition held the loop for the whole first
    count and kept a cache entry per key for good).
    """
    chunk = chunk or COUNT_CHUNK
    n = 0
    for _ in store._iterkeys():
        n += 1
        if n == chunk:
            yield n
            n = 0
    yield n


async def count_keys_stepwise(store: SerializedStore) -> tuple[int, float] | None:
    """(the count of ``_key_chunks``, seconds of the loop it took), one chunk per event-loop
    step: the articles table holds every article ever counted, and one pass over all its keys
    held up every record in the worker meanwhile; chunk by chunk, a record waits for one chunk.
    None when the stores changed under the count (a rebalance opened or closed one)."""
    total, busy = 0, 0.0
    chunks = _key_chunks(store)
    while True:
        t = time.perf_counter()
        try:
            n = next(chunks, None)
        except RuntimeError:  # Faust's dict of open databases changed size meanwhile
            return None
        busy += time.perf_counter() - t
        if n is None:
            return total, busy
        total += n
        await asyncio.sleep(0)


def consumer_lag(app: faust.App) -> list[dict[str, Any]]:
    """Lag per assigned source partition from what the consumer already knows (no request to
    the broker): ``lag`` = highwater of the last fetch - next offset this worker will read;
    ``commit_lag`` = highwater - committed offset (what Kafka's group tools show; it trails by
    up to the commit interval).

    Changelog and assignor topics are left out: their partitions are read only during table
    recovery, so "lag" on them means nothing to an operator.
    """
    consumer: Any = app.consumer  # the driver's Consumer: its offsets live in private dicts
    try:
        assignment = consumer.assignment()
    except Exception:  # not started yet, or between rebalances
        return []
    rows = []
    for tp in sorted(assignment):
        if tp.topic.endswith("-changelog") or "__assignor" in tp.topic:
            continue
        try:
            highwater: int | None = consumer.highwater(tp)
        except Exception:
            highwater = None
        committed = consumer._committed_offset.get(tp)  # next offset to read after a restart
        read = consumer._read_offset.get(tp)  # offset of the last record handed to an agent
        position = read + 1 if read is not None else committed
        lag = commit_lag = None
        if highwater is not None:
            lag = max(0, highwater - (position or 0))
            commit_lag = max(0, highwater - (committed or 0))
        rows.append(
            {
                "topic": tp.topic,
                "partition": tp.partition,
                "highwater": highwater,
                "committed": committed,
                "position": position,
                "lag": lag,
                "commit_lag": commit_lag,
            }
        )
    return rows


def active_partitions(app: faust.App, table: TableT) -> list[int]:
    """Partitions of ``table`` this worker owns (and so answers for)."""
    topic = table.changelog_topic.get_topic_name()
    try:
        actives = app.assignor.assigned_actives()
    except Exception:
        return []
    return sorted(tp.partition for tp in actives if tp.topic == topic)


class TableSnapshot:
    """The items of the partitions this worker owns now, refreshed at most every ``ttl`` s.

    Every dashboard poll reads the entity table several times (top, per type, trending); one
    scan per second bounds that cost however many browsers are open. The local store can also
    hold keys of partitions this worker no longer owns (counted before a rebalance, or standby
    copies): answering with those would report stale counts and count them twice across
    workers, so each key is kept only when its partition (the one the count stage routed it
    to) is owned.
    """

    def __init__(
        self, table: TableT, owned: Callable[[], list[int]], partitions: int, ttl: float = 1.0
    ) -> None:
        self.table = table
        self.owned = owned
        self.partitions = partitions
        self.ttl = ttl
        self._items: list[tuple[str, Any]] = []
        self._at = -1e18
        self._owned: set[int] = set()
        self._partition_of: dict[str, int] = {}  # murmur2 in Python: once per key
        self._cost = 0.0  # seconds the last items() scan took
        self.generation = 0  #: bumped by every new scan (what a cache built on items keys on)
        #: the key count (``size``), with the same ttl, and recounted on a rebalance
        self.sizes = TableSize(table, ttl, owned=owned, key_owned=self._key_owned)

    def _partition(self, key: str) -> int:
        part = self._partition_of.get(key)
        if part is None:
            part = self._partition_of[key] = partition_for(key, self.partitions)
        return part

    def items(self) -> list[tuple[str, Any]]:
        now = time.monotonic()
        owned = set(self.owned())
        if _due(now, self._at, self.ttl, self._cost) or owned != self._owned:  # or a rebalance
            self._owned = owned
            self._items = [
                (k, v) for k, v in self.table.items() if v and self._partition(k) in owned
            ]
            self._at, self._cost = now, time.monotonic() - now
            self.generation += 1
            self.sizes.record(len(self._items), now, self._cost, owned)
        return self._items

    def size(self) -> int:
        """``len(items())``, but counted from the keys alone when the snapshot is not fresh:
        ``/api/stats`` (polled twice a second by the bench and the dashboard) wants only the number,
        and decoding every value of the entity table for it cost more than anything else the web
        did. Same ``ttl`` and rebalance rule as ``items``, and one figure shared with it (a fresh
        snapshot's length is the size). A key counts when its value is truthy in ``items``; the
        count tables never hold a falsy value (every write is a non-empty dict, and a deleted key is
        gone from the store), so every key counts here."""
        return self.sizes.size()

    async def asize(self) -> int:
        """``size()`` for the event loop: a rocksdb table is counted a chunk per loop step."""
        return await self.sizes.asize()

    def _key_owned(self, key: str, owned: set[int]) -> bool:
        return self._partition(key) in owned


def _ident(url: URL | str) -> tuple[str, int]:
    url = URL(str(url))
    return (url.host or "", int(url.port or 80))


def other_workers(app: faust.App, table: TableT) -> dict[str, list[int]]:
    """Web URL -> partitions of ``table``, for every worker but this one (from the assignor)."""
    try:
        metadata = app.router.table_metadata(table.name)
    except Exception:
        return {}
    me = _ident(app.conf.canonical_url)
    out: dict[str, list[int]] = {}
    for host, topics in metadata.items():
        if _ident(host) == me:
            continue
        parts = sorted({p for partitions in topics.values() for p in partitions})
        if parts:
            out[str(host).rstrip("/")] = parts
    return out


async def fan_out(
    app: faust.App,
    urls: list[str],
    path_and_query: str,
    timeout: float = 3.0,
) -> list[tuple[str, dict[str, Any] | None, str | None]]:
    """GET the same local-only query from each other worker: (url, body or None, error)."""

    async def one(url: str) -> tuple[str, dict[str, Any] | None, str | None]:
        try:
            async with app.http_client.get(
                url + path_and_query,
                timeout=timeout,  # type: ignore[arg-type]
            ) as resp:
                if resp.status != 200:
                    return url, None, f"HTTP {resp.status}"
                body: dict[str, Any] = await resp.json(content_type=None)
                return url, body, None
        except Exception as exc:
            return url, None, f"{type(exc).__name__}: {exc}"[:300]

    return list(await asyncio.gather(*(one(u) for u in urls)))


class TableSize:
    """Number of keys in a table's local partitions, counted at most every ``ttl`` seconds and
    every ``SCAN_SPACING`` times the count's own time (counting walks the store, and the
    articles table holds a key per article). Raw keys are counted, none is decoded; the
    web counts with ``asize``, a chunk per event-loop step.

    ``owned``: the partitions this worker holds; a change (a rebalance) makes a count due at
    once. ``key_owned``: for a store without a database per partition (``memory://``),
    whether a key is in one of them (a rocksdb store iterates the owned partitions only).
    """

    def __init__(
        self,
        table: TableT,
        ttl: float = 5.0,
        owned: Callable[[], list[int]] | None = None,
        key_owned: Callable[[str, set[int]], bool] | None = None,
    ) -> None:
        self.table = table
        self.ttl = ttl
        self.owned = owned
        self.key_owned = key_owned
        self._size = 0
        self._at = -1e18
        self._cost = 0.0
        self._owned: set[int] = set()
        self._counting = asyncio.Lock()  # held by an asize() count; other callers take the last

    def record(self, size: int, at: float, cost: float, owned: set[int]) -> None:
        """A count taken at ``at`` that took ``cost`` seconds (also a fresh snapshot's)."""
        self._size, self._at, self._cost, self._owned = size, at, cost, owned

    def size(self) -> int:
        now, owned = time.monotonic(), self._owned_now()
        if self._due(now, owned):
            self.record(self._count(owned), now, time.monotonic() - now, owned)
        return self._size

    async def asize(self) -> int:
        """``size()`` for the event loop: a rocksdb table is counted a chunk per loop step."""
        store = getattr(self.table, "data", None)
        if not isinstance(store, SerializedStore):
            return self.size()
        now, owned = time.monotonic(), self._owned_now()
        if self._due(now, owned) and not self._counting.locked():
            async with self._counting:
                counted = await count_keys_stepwise(store)
            if counted is not None:
                self.record(counted[0], now, counted[1], owned)
        return self._size

    def _owned_now(self) -> set[int]:
        return set(self.owned()) if self.owned is not None else set()

    def _due(self, now: float, owned: set[int]) -> bool:
        return _due(now, self._at, self.ttl, self._cost) or owned != self._owned

    def _count(self, owned: set[int]) -> int:
        store = getattr(self.table, "data", None)
        if isinstance(store, SerializedStore):
            return sum(_key_chunks(store))
        if self.key_owned is None:
            return sum(1 for _ in self.table)
        return sum(1 for k in self.table if self.key_owned(k, owned))
