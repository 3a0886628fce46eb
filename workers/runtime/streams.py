"""Faust streams in batches: how the agents take events, and tables written for one of them.

Done and acked (faust-streaming 0.15.3: ``take_batches`` over Faust's ``Stream.take_events``, and
``take_ready`` below, which keeps its buffering): the events of a batch are marked done for the
offset ledger (``workers.runtime.consumer``) when the agent asks for the next batch, i.e. after its
loop body ran for this one, and Faust-acked then too (Faust's acks only let a rebalance or a stop
wait for them). The loop body returns only once what it sent is acknowledged by the broker
(``sinks.Outbox``), and the consumer commits a done offset only once everything sent before the
commit is delivered. A SIGKILL in the middle of a batch commits nothing of that batch (it is
processed again after the restart). Records still waiting in the take buffer are not done either.

The loop body must not let an exception escape: the agent would stop, and the dropped
generator would leave the batch not done (Faust-acked all the same). Records are caught one by
one; ``workers.stage.settle_batch`` is the net under that (a bug in the batch code itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Sequence
from typing import Any, cast

import faust
from faust.streams import _current_event
from mode.utils.futures import notify

from workers.stage import Event

log = logging.getLogger("newsflow.batches")


def done_marker(stream: faust.StreamT) -> Callable[[Any], None]:
    """``consumer.done`` of the stream's app: tells the offset ledger that a record is finished
    (``consumer``); a no-op with a consumer that keeps no ledger. Records of the
    stream's topics are then done only when this says so."""
    consumer: Any = stream.app.consumer
    explicit = getattr(consumer, "done_explicitly", None)
    if explicit is None:
        return _no_ledger
    channel = stream.channel
    explicit(getattr(channel, "topics", None) or (), getattr(channel, "pattern", None))
    return cast(Callable[[Any], None], consumer.done)


def _no_ledger(message: Any) -> None:
    return None


async def take_batches(
    stream: faust.StreamT, max_records: int, within_s: float
) -> AsyncIterator[Sequence[faust.EventT]]:
    """``take_events`` (on faust's Stream, missing from its StreamT interface): up to
    ``max_records`` events, or what arrived within ``within_s`` seconds (at least one). A
    batch is marked done when the agent asks for the next one (after its loop body ran)."""
    mark_done = done_marker(stream)
    async for events in cast(faust.Stream, stream).take_events(max_records, within_s):
        yield events
        for event in events:
            mark_done(event.message)


def take_ready(
    stream: faust.StreamT, max_records: int, within_s: float
) -> AsyncGenerator[list[faust.EventT], None]:
    """Batches that start as soon as a record arrives: up to ``max_records`` events, the first
    one and whatever else is ready to be taken (at most ``within_s`` after the first).

    Why not ``take_events``: it wakes on a fixed period, so an idle pipeline held each record
    for up to that period per stage (half of it on average), and woke up with nothing to do
    all the time. Here the wait is for the first record; then the batch takes what the stream
    hands over without waiting, which under a backlog is a full batch (records pile up while
    the previous batch is processed) and with a light load is the one record that came.

    "Ready" is what the stream has been handed (its channel's queue) or is adding now; the
    batch stops filling when neither grows, when it is full, or ``within_s`` after its first
    record.

    Buffering, back-pressure and acks are ``take_events``' (faust-streaming 0.15.3): records
    are added by a processor on the passively drained stream, and the events of a batch are
    acked when the agent asks for the next one.
    """
    s = cast(faust.Stream, stream)
    agen = _take_ready(s, max_records, within_s)
    s._active_agens.add(agen)  # closed by the stream on stop, as faust does for take_events
    return agen


async def _take_ready(
    stream: faust.Stream, max_records: int, within_s: float
) -> AsyncGenerator[list[faust.EventT], None]:
    events: list[faust.EventT] = []
    ready = asyncio.Event()  # the batch has its first record
    taken = asyncio.Event()  # a full batch was handed over; adding may go on
    consuming: asyncio.Future[None] | None = None  # set while the agent has the batch
    loop = asyncio.get_running_loop()

    async def add_to_batch(value: Any) -> Any:
        """Stream processor: the event of ``value`` joins the batch being filled."""
        nonlocal consuming
        try:
            if consuming is not None:
                try:
                    await consuming
                finally:
                    consuming = None
            event = stream.current_event
            if event is None:
                raise RuntimeError("take_ready found no current event")
            events.append(event)
            ready.set()
            if len(events) >= max_records:
                taken.clear()
                await stream.wait(taken)  # type: ignore[arg-type]  # asyncio.Event has .wait()
        except asyncio.CancelledError:  # pragma: no cover
            raise
        except Exception as exc:  # pragma: no cover - faust's own handling in take_events
            log.exception("Error adding to take_ready batch: %r", exc)
            await stream.crash(exc)
        return value

    channel = aiter(stream.channel)
    queue = getattr(channel, "queue", None)  # records delivered to the stream, not taken yet

    def waiting() -> bool:
        return queue is not None and queue.qsize() > 0

    mark_done = done_marker(stream)
    acks_before = stream.enable_acks
    stream.enable_acks = False  # acked here, after the agent has processed them
    stream.add_processor(add_to_batch)
    stream._enable_passive(cast(faust.ChannelT, channel))
    try:
        while not stream.should_stop:
            await stream.wait_for_stopped(ready)  # type: ignore[arg-type]
            deadline = loop.time() + within_s
            while len(events) < max_records and loop.time() < deadline:
                before = len(events)
                await asyncio.sleep(0)  # let the drainer add what is ready
                if len(events) == before and not waiting():
                    break
            if not events:
                continue
            consuming = loop.create_future()
            processed = False
            try:
                yield list(events)
                processed = True  # the agent asked for the next batch: this one is finished
            finally:
                for event in events:
                    if processed:
                        mark_done(event.message)
                    await stream.ack(event)
                events.clear()
                ready.clear()
                notify(consuming)
                taken.set()
    finally:
        stream.enable_acks = acks_before
        stream._processors.remove(add_to_batch)


@contextlib.contextmanager
def acting_for(event: Event) -> Iterator[None]:
    """Make ``event`` the current event while touching a table: Faust reads and writes the
    rocksdb partition, and sends the changelog record to the partition, of the current event.
    In a batch the stream's own current event is some other record, possibly of another
    partition, so every table access names the record it is done for."""
    token = _current_event.set(weakref.ref(cast(faust.EventT, event)))
    try:
        yield
    finally:
        _current_event.reset(token)
