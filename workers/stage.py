"""A batched stage, without Faust: what the clean, extract and count batch classes share.

A batch class (``CleanBatch``, ``ExtractBatch``, ``CountBatch``) is called with the events of
one batch and ends each of them somewhere before it returns: sent on, skipped, or
dead-lettered. It sees its surroundings only through the small interfaces here: the events it
reads, the topics and tables it names, where its records go (``DeadLetters`` and its
``Outbox``), the child process that does its CPU work (``Guard``), and ``ActingFor``, which
points table reads and writes at the partition of one record. ``workers.runtime`` implements
them over Faust and Kafka; the tests implement them with doubles, so a stage is a component
that runs and is tested without a broker.

The helpers below are the batch classes' common steps: ``settle_batch`` (no event of a batch
ends without a trace, whatever fails), ``chunks`` (bounded requests to a stage process) and
``distinct_runs`` (records whose decisions cannot depend on each other).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
log = logging.getLogger("newsflow.batches")


class Message(Protocol):
    """Where a record came from (Faust's ``Message``)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def timestamp(self) -> float: ...


class Event(Protocol):
    """One record of a batch: its value (bytes, or None for a tombstone) and its message."""

    @property
    def value(self) -> Any: ...
    @property
    def message(self) -> Message: ...


class Topic(Protocol):
    """A topic a stage sends to: ``send`` returns the delivery (an awaitable of the ack)."""

    async def send(
        self, *, key: Any = None, value: Any = None, partition: int | None = None
    ) -> Awaitable[Any]: ...
    def get_topic_name(self) -> str: ...


class Table(Protocol):
    """A table a stage reads and writes, in the partition ``ActingFor`` points at."""

    def get(self, key: Any, /) -> Any: ...
    def __setitem__(self, key: Any, value: Any, /) -> None: ...


#: ``acting_for(event)``: a context in which table reads and writes (and the changelog records
#: they send) go to the partition of ``event``.
ActingFor = Callable[[Event], AbstractContextManager[None]]


class Outbox(Protocol):
    """The records one batch sends on, confirmed together before the batch's input is done."""

    async def send(
        self, event: Event, topic: Topic, key: bytes | None, value: bytes,
        partition: int | None = None,
    ) -> None: ...  # fmt: skip
    async def send_json(self, event: Event, topic: Topic, key: str, value: Any) -> None: ...
    async def confirm(self) -> list[Event]:
        """Wait for every record sent; return the events whose records the broker refused
        (their input was dead-lettered)."""
        ...


class DeadLetters(Protocol):
    """The dead-letter topic: ``send`` returns once the letter is acknowledged."""

    async def send(self, stage: str, exc: BaseException, event: Event) -> None: ...
    def outbox(self, stage: str) -> Outbox:
        """An outbox whose refused records are dead-lettered here."""
        ...


class Guard(Protocol):
    """A stage process: one outcome per argument tuple (the value, or the exception)."""

    async def run_many(self, batch: Sequence[tuple[Any, ...]]) -> list[Any]: ...


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

    def __init__(self, events: Sequence[Event]) -> None:
        self._open = {id(event): event for event in events}

    def done(self, event: Event) -> None:
        self._open.pop(id(event), None)

    def events(self) -> list[Event]:
        return list(self._open.values())


async def settle_batch(
    stage: str,
    dead: DeadLetters,
    events: Sequence[Event],
    process: Callable[[Open, Outbox], Awaitable[None]],
) -> None:
    """``await process(open, outbox)``, then confirm what it sent (``Outbox.confirm``). When an
    exception escapes ``process`` anyway, every event of the batch not ended yet goes to the
    dead-letter topic, so none is marked done without a trace."""
    open_ = Open(events)
    outbox = dead.outbox(stage)
    try:
        await process(open_, outbox)
    except Exception as exc:
        left = open_.events()
        log.exception("%s: batch failed; dead-lettering its %d open records", stage, len(left))
        for event in left:
            await dead.send(stage, exc, event)
    await outbox.confirm()
