"""Faust's aiokafka producer, with a wait for delivery that a commit can rely on.

``Producer.flush`` in faust-streaming 0.15.3 returns as soon as its buffer has not moved for
0.1 s (``ProducerBuffer.flush_atmost``), with records still queued, and send failures are only
logged (``Topic._on_published``). The consumer commits after that flush, so a commit could go
past input whose table changelog records were never delivered.

``TrackingProducer.wait_delivered`` waits until everything sent before the call is
acknowledged by the broker (or failed): the records queued in Faust's buffer (table changelog
records) are handed to aiokafka first, then every delivery future is awaited. A failed
changelog record is fatal for the commit (``DeliveryFailed``): the local table holds a value
its changelog does not, and only a restart, which rebuilds local state from the changelog
(``workers.runtime.statedir``), makes them agree again. Records the stages send are not fatal here:
the stage awaits them itself and only marks its input done once they are delivered
(``streams``).

Faust internals used (faust-streaming 0.15.3; the list of them all: ``workers.runtime``):
``ProducerBuffer._send_pending``, its ``message_sent`` and ``app``, and ``Producer.buffer``.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from typing import Any, cast

from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.transport.producer import ProducerBuffer
from faust.types.tuples import FutureMessage

log = logging.getLogger("newsflow.producer")


class DeliveryFailed(Exception):
    """A table changelog record was not delivered: the worker must not commit past it."""


class CountingBuffer(ProducerBuffer):
    """Faust's producer buffer, counting what went in and what was handed to the producer
    (it is a FIFO, so "handed >= n" means the first n records put are with aiokafka)."""

    puts: int = 0
    handed: int = 0

    def put(self, fut: FutureMessage) -> None:
        self.puts += 1
        super().put(fut)

    async def _send_pending(self, fut: FutureMessage) -> None:
        try:
            await super()._send_pending(fut)
        finally:
            self.handed += 1

    async def wait_handed(self, n: int) -> None:
        """Until the first ``n`` records put are handed to the producer."""
        while self.handed < n:
            self.message_sent.clear()
            try:
                await asyncio.wait_for(self.message_sent.wait(), timeout=1.0)
            except TimeoutError:
                if self.should_stop:
                    raise DeliveryFailed("producer buffer stopped with records queued") from None


class TrackingProducer(faust_aiokafka.Producer):
    """Keeps the delivery future of every record until it is known delivered."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        old = cast(ProducerBuffer, self.buffer)
        buffer = CountingBuffer(loop=self.loop, beacon=self.beacon)
        buffer.app = old.app
        buffer.max_messages = old.max_messages
        self.buffer = buffer
        self._unconfirmed: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._changelog_failure: BaseException | None = None
        self._changelogs: frozenset[str] | None = None

    async def send(self, topic: str, *args: Any, **kwargs: Any) -> Any:
        fut = await super().send(topic, *args, **kwargs)
        if isinstance(fut, asyncio.Future):
            self._forget_done()
            self._unconfirmed.append(fut)
            if self._is_changelog(topic):
                fut.add_done_callback(self._check_changelog_delivery)
        return fut

    def _forget_done(self) -> None:
        """Drop the futures known done from the front. A failed changelog record has set
        ``_changelog_failure`` by then; other senders await and handle their own futures."""
        unconfirmed = self._unconfirmed
        while unconfirmed and unconfirmed[0].done():
            unconfirmed.popleft()

    def _is_changelog(self, topic: str) -> bool:
        if self._changelogs is None:
            self._changelogs = frozenset(self.app.tables.changelog_topics)
        return topic in self._changelogs

    def _check_changelog_delivery(self, fut: asyncio.Future[Any]) -> None:
        if not fut.cancelled() and fut.exception() is not None and self._changelog_failure is None:
            self._changelog_failure = fut.exception()

    def all_delivered(self) -> bool:
        """True when nothing is left to deliver and no changelog record failed (checked
        after the producer stopped: the local table state then matches the changelogs)."""
        buffer = self.buffer
        handed_all = not isinstance(buffer, CountingBuffer) or buffer.handed >= buffer.puts
        self._forget_done()
        return handed_all and not self._unconfirmed and self._changelog_failure is None

    async def wait_delivered(self) -> None:
        """Return when everything sent before this call is acknowledged by the broker; raise
        ``DeliveryFailed`` when a table changelog record failed (now or earlier)."""
        buffer = self.buffer
        if isinstance(buffer, CountingBuffer):
            await buffer.wait_handed(buffer.puts)
        pending = list(self._unconfirmed)
        if pending:
            await asyncio.wait(pending)
        self._forget_done()
        if self._changelog_failure is not None:
            raise DeliveryFailed(f"a table changelog record failed: {self._changelog_failure!r}")
