"""Reconnect back-off with jitter for aiokafka's client, which has none.

Touches an aiokafka internal (``AIOKafkaClient._get_conn``): written against aiokafka 0.14.x,
the version faust-streaming==0.15.3 runs with here (pyproject: ``aiokafka>=0.14,<0.15``).
It lives in the runtime room with the other Faust / aiokafka internals (GUIDE, "Decisions that
stand").

Why: when the broker goes away, aiokafka's loops retry at once. The producer's sender (and the
fetcher), finding a partition without a known leader, wait on ``force_metadata_update()``; a
metadata update whose connection is refused fails in well under a millisecond, so the wait ends
at once and the loop goes round again, thousands of times a second, each time with two ERROR
lines ("Unable connect to node", "Unable to update metadata"): CPU and log spent for nothing
while the broker is away (docs/fault-tolerance.md, "Broker outage"). No setting spaces this:
``retry_backoff_ms`` is not applied on that path (and Faust does not pass it to aiokafka).

The Java client has ``reconnect.backoff.ms`` / ``reconnect.backoff.max.ms``: after a failed
connection to a node, the next attempt waits, exponentially longer each time up to the maximum,
with +-20 % jitter so that clients do not retry in step. This module adds the same to every
aiokafka client in the process: a caller that needs a new connection to a node that failed
recently waits out the back-off first. A metadata update then takes at least the back-off to
fail, so every loop waiting on one is paced by it, and so are fetches, heartbeats, coordinator
look-ups and produce requests. A live connection is returned at once, as before; the back-off
resets on the first success (the broker is back within one back-off period).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any

from aiokafka.client import AIOKafkaClient, ConnectionGroup

INITIAL_S = 0.1
MAX_S = 2.0
JITTER = 0.2

_original_get_conn = AIOKafkaClient._get_conn


class ReconnectBackoff:
    """Per node: how long a new connection attempt must wait after failures."""

    def __init__(
        self,
        initial_s: float = INITIAL_S,
        max_s: float = MAX_S,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.initial_s, self.max_s, self.clock = initial_s, max_s, clock
        self.rng = rng or random.Random()
        self.failures: dict[Any, int] = {}
        self.next_at: dict[Any, float] = {}

    def delay(self, failures: int) -> float:
        """Back-off after ``failures`` failures in a row: doubling from ``initial_s``, capped at
        ``max_s``, times a jitter factor in [0.8, 1.2]."""
        base = min(self.max_s, self.initial_s * 2 ** max(0, failures - 1))
        return base * self.rng.uniform(1 - JITTER, 1 + JITTER)

    def wait_s(self, node: Any) -> float:
        return max(0.0, self.next_at.get(node, 0.0) - self.clock())

    def failed(self, node: Any) -> None:
        """A connection attempt failed. Callers that tried together (they all waited out the
        same back-off) count as one failure, so the back-off grows per period, not per caller."""
        now = self.clock()
        if now < self.next_at.get(node, 0.0):
            return
        self.failures[node] = self.failures.get(node, 0) + 1
        self.next_at[node] = now + self.delay(self.failures[node])

    def succeeded(self, node: Any) -> bool:
        """A connection was made: True when it ends a run of failures."""
        self.next_at.pop(node, None)
        return self.failures.pop(node, 0) > 0


class _Installed:
    initial_s = INITIAL_S
    max_s = MAX_S
    on_reachable: Callable[[], None] | None = None


def _backoff_of(client: AIOKafkaClient) -> ReconnectBackoff:
    state: ReconnectBackoff | None = client.__dict__.get("_newsflow_reconnect_backoff")
    if state is None:
        state = ReconnectBackoff(_Installed.initial_s, _Installed.max_s)
        client.__dict__["_newsflow_reconnect_backoff"] = state
    return state


async def _get_conn_with_backoff(
    self: AIOKafkaClient, node_id: Any, *, group: Any = ConnectionGroup.DEFAULT,
    no_hint: bool = False,
) -> Any:  # fmt: skip
    conn = self._conns.get((node_id, group))
    if conn is not None and conn.connected():
        return conn
    backoff = _backoff_of(self)
    wait = backoff.wait_s(node_id)
    if wait > 0:
        await asyncio.sleep(wait)
    conn = await _original_get_conn(self, node_id, group=group, no_hint=no_hint)
    if conn is None:
        backoff.failed(node_id)
    elif backoff.succeeded(node_id) and _Installed.on_reachable is not None:
        _Installed.on_reachable()
    return conn


def install(
    initial_s: float = INITIAL_S,
    max_s: float = MAX_S,
    on_reachable: Callable[[], None] | None = None,
) -> None:
    """Give every aiokafka client in this process a reconnect back-off (idempotent).
    ``on_reachable`` is called when a connection succeeds after failures."""
    _Installed.initial_s, _Installed.max_s = initial_s, max_s
    _Installed.on_reachable = on_reachable
    AIOKafkaClient._get_conn = _get_conn_with_backoff


def uninstall() -> None:
    """Back to aiokafka's own ``_get_conn`` (tests)."""
    AIOKafkaClient._get_conn = _original_get_conn
    _Installed.on_reachable = None
