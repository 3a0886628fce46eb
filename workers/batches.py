"""What the batched agents share: taking events in batches, and tables written for one of them.

Acknowledgement (faust-streaming 0.15.3, ``Stream.take_events``): the events of a batch are
acked in the generator's ``finally``, i.e. when the agent asks for the next batch, after its
loop body has run for this one. Acked offsets are committed later by the consumer, which first
flushes the producer. So an output sent (``await topic.send``) in the loop body is in the
producer's buffer before its input is acked, and flushed before that offset is committed; a
SIGKILL in the middle of a batch commits nothing of that batch (it is processed again after the
restart). Records still waiting in the take buffer are not acked either.

The loop body must not let an exception escape: the agent would stop, and once the dropped
generator is closed its ``finally`` would ack the rest of the batch unprocessed. Records are
caught one by one; ``settle_batch`` is the net under that (a bug in the batch code itself).
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import TypeVar, cast

import faust
from faust.streams import _current_event

from workers.sinks import DeadLetterSink

T = TypeVar("T")
log = logging.getLogger("newsflow.batches")

#: Clean and extract stages: records per batch at most, and how long a batch may wait to fill.
#: Under a backlog batches fill at once; an idle pipeline pays at most this much latency per
#: record and stage.
STAGE_BATCH_MAX = 64
STAGE_BATCH_WITHIN_S = 0.01


def take_batches(
    stream: faust.StreamT, max_records: int, within_s: float
) -> AsyncIterator[Sequence[faust.EventT]]:
    """``take_events`` (on faust's Stream, missing from its StreamT interface): up to
    ``max_records`` events, or what arrived within ``within_s`` seconds (at least one)."""
    return cast(faust.Stream, stream).take_events(max_records, within_s)


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
    process: Callable[[Open], Awaitable[None]],
) -> None:
    """``await process(open)``; when an exception escapes it anyway, every event of the batch
    not ended yet goes to the dead-letter topic, so none is acked without a trace."""
    open_ = Open(events)
    try:
        await process(open_)
    except Exception as exc:
        left = open_.events()
        log.exception("%s: batch failed; dead-lettering its %d open records", stage, len(left))
        for event in left:
            await dead.send(stage, exc, event)
