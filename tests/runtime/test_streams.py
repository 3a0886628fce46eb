"""``workers.runtime.streams.take_ready`` on a real faust stream (an agent's in-memory test
channel): a lone record goes on at once, records that come while a batch is busy make the next
batch, nothing is lost or repeated, and a batch is acked only once the agent is done with it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import faust

from workers.runtime.streams import take_ready

WINDOW_S = 5.0  # take_ready may fill a batch this long; it must not wait for it


async def _until(cond: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.001)


async def test_take_ready_hands_on_a_lone_record_without_waiting_for_the_window() -> None:
    app = faust.App("take-ready-lone", store="memory://", web_enabled=False)
    seen: list[float] = []

    @app.agent()
    async def agent(stream: faust.StreamT) -> None:
        async for events in take_ready(stream, 8, WINDOW_S):
            seen.extend(time.monotonic() for _ in events)

    async with agent.test_context() as ctx:
        t0 = time.monotonic()
        await ctx.put("one")
        await _until(lambda: bool(seen))
        assert seen[0] - t0 < WINDOW_S / 2


async def test_take_ready_batches_what_arrives_while_busy_in_order_and_acks_after() -> None:
    app = faust.App("take-ready-busy", store="memory://", web_enabled=False)
    batches: list[list[Any]] = []
    unacked_while_busy: list[bool] = []
    previous: list[faust.EventT] = []
    release = asyncio.Event()

    @app.agent()
    async def agent(stream: faust.StreamT) -> None:
        async for events in take_ready(stream, 4, WINDOW_S):
            # the previous batch is acked by now, this one is not yet
            unacked_while_busy.append(
                all(e.message.acked for e in previous) and not any(e.message.acked for e in events)
            )
            previous[:] = events
            batches.append([e.value for e in events])
            await release.wait()  # busy until the test lets go

    async with agent.test_context() as ctx:
        await ctx.put(0)
        await _until(lambda: len(batches) == 1)

        async def put_rest() -> None:
            for i in range(1, 11):
                await ctx.put(i)

        putting = asyncio.create_task(put_rest())  # a put may wait for the stream to take it
        await asyncio.sleep(0.2)
        release.set()
        await _until(lambda: sum(map(len, batches)) == 11)
        await putting

    assert [v for batch in batches for v in batch] == list(range(11))
    assert batches[0] == [0]
    assert all(len(batch) <= 4 for batch in batches)
    assert len(batches[1]) == 4  # a backlog makes full batches, not batches of one
    assert all(unacked_while_busy)
