"""What the batched agents share: taking events in batches, and tables written for one of them.

Done and acked (faust-streaming 0.15.3, ``Stream.take_events`` and ``take_ready`` below, which
keeps its buffering): the events of a batch are marked done for the offset ledger
(``workers.consumer``) when the agent asks for the next batch, i.e. after its loop body ran
for this one, and Faust-acked then too (Faust's acks only let a rebalance or a stop wait for
them). The loop body returns only once what it sent is acknowledged by the broker
(``workers.sinks.Outbox``), and the consumer commits a done offset only once everything sent
before the commit is delivered. A SIGKILL in the middle of a batch commits nothing of that
batch (it is processed again after the restart). Records still waiting in the take buffer are
not done either.

The loop body must not let an exception escape: the agent would stop, and the dropped
generator would leave the batch not done (Faust-acked all the same). Records are caught one by
one; ``settle_batch`` is the net under that (a bug in the batch code itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Any, TypeVar, cast

import faust
from faust.streams import _current_event
from mode.utils.futures import notify

from workers.sinks import DeadLetterSink, Outbox

T = TypeVar("T")
log = logging.getLogger("newsflow.batches")

#: Clean and extract stages: records per batch at most, and how long a batch may keep filling
#: once its first record is there (``take_ready``). Under a backlog batches fill at once; an
#: idle pipeline hands a record on as soon as it arrives.
STAGE_BATCH_MAX = 64
STAGE_BATCH_WITHIN_S = 0.01


def done_marker(stream: faust.StreamT) -> Callable[[Any], None]:
    """``consumer.done`` of the stream's app: tells the offset ledger that a record is
    finished (``workers.consumer``); a no-op with a consumer that keeps no ledger. Records of
    the stream's topics are then done only when this says so."""
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
def acting_for(event: faust.EventT) -> Iterator[None]:
    """Make ``event`` the current event while touching a table: Faust reads and writes the
    rocksdb partition, and sends the changelog record to the partition, of the current event.
    In a batch the stream's own current event is some other record, possibly of another
    partition, so every table access names the record it is done for."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


def chunks(items: Sequence[T], size: Callable[[T], int], max_size: int) -> Iterator[Sequence[T]]:
    """Consecutive runs of ``items`` of at most ``max_size`` total ``size`` (a single larger
    item makes a run of its own): bounds what one request to a stage process carries."""
    start, total = 0, 0
    for i, item in enumerate(items):
        n = size(item)
        if i > start and total + n > max_size:
            yield items[start:i]
            start, total = i, 0
        total += n
    if start < len(items):
        yield items[start:]


def distinct_runs(items: Sequence[T], key: Callable[[T], object]) -> Iterator[Sequence[T]]:
    """Consecutive runs of ``items`` in which no ``key`` repeats: a key seen again starts a new
    run. What is decided for an item of one run cannot depend on an earlier item of the same
    run, so a run can be decided first and processed together."""
    start: int = 0
    seen: set[object] = set()
    for i, item in enumerate(items):
        k = key(item)
        if k in seen:
            yield items[start:i]
            start, seen = i, set()
        seen.add(k)
    if start < len(items):
        yield items[start:]


class Open:
    """The events of one batch that have not ended anywhere yet (sent on, skipped, or
    dead-lettered); the batch code calls ``done`` for each as it ends."""

    def __init__(self, events: Sequence[faust.EventT]) -> None:
        self._open = {id(event): event for event in events}

    def done(self, event: faust.EventT) -> None:
        self._open.pop(id(event), None)

    def events(self) -> list[faust.EventT]:
        return list(self._open.values())


async def settle_batch(
    stage: str,
    dead: DeadLetterSink,
    events: Sequence[faust.EventT],
    process: Callable[[Open, Outbox], Awaitable[None]],
) -> None:
    """``await process(open, outbox)``, then confirm what it sent (``Outbox.confirm``). When an
    exception escapes ``process`` anyway, every event of the batch not ended yet goes to the
    dead-letter topic, so none is marked done without a trace."""
    open_ = Open(events)
    outbox = Outbox(dead, stage)
    try:
        await process(open_, outbox)
    except Exception as exc:
        left = open_.events()
        log.exception("%s: batch failed; dead-lettering its %d open records", stage, len(left))
        for event in left:
            await dead.send(stage, exc, event)
    await outbox.confirm()
