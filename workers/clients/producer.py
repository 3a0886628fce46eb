"""The one producer of raw pages: ``newsflow produce``, the WARC reader and the Scrapy pipeline
all send through :class:`RawProducer`; other Python crawlers can too.

    from workers.clients import RawProducer

    async with RawProducer("127.0.0.1:9092", "articles.raw") as producer:
        await producer.send({"url": "https://example.jp/a/1", "body": html})
    # leaving the block has waited for the broker's acknowledgement of every page

    from workers.clients import SyncRawProducer       # the same, for code without asyncio

    with SyncRawProducer("127.0.0.1:9092") as producer:
        producer.send({"url": url, "body": html, "content_type": "text/html"})

What it promises:

- **Keyed for order**: a page is keyed by its ``id``, else its ``url``, so the versions of one
  article (re-crawls) land on one partition in the order they were sent (the worker's re-crawl
  rule counts the last one).
- **Acknowledged**: ``acks=all``; :meth:`RawProducer.flush` and :meth:`RawProducer.stop` return
  only when the broker has acknowledged every page sent, and raise :class:`ProduceError` if any
  was not.
- **Bounded**: at most ``max_pending_bytes`` of pages wait for acknowledgement; beyond that
  :meth:`RawProducer.send` waits (back-pressure) instead of buffering without limit.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Mapping
from types import TracebackType
from typing import Any, TypeVar

import orjson

from workers.endpoints import bootstrap_of

T = TypeVar("T")

#: Pages waiting for acknowledgement, in bytes, before ``send`` waits.
DEFAULT_MAX_PENDING_BYTES = 32 * 1024 * 1024
#: The largest request (and so the largest page) the producer sends; the broker's
#: ``message.max.bytes`` must allow the pages too.
DEFAULT_MAX_REQUEST_SIZE = 16 * 1024 * 1024


class ProduceError(RuntimeError):
    """Pages that the broker did not acknowledge (the first error is the cause)."""


#: HTTP media types of pages -> the raw topic's ``content_type``.
PAGE_TYPES = {
    "text/html": "text/html",
    "application/xhtml+xml": "text/html",
    "text/plain": "text/plain",
}


def page_type(content_type: str | None) -> str | None:
    """``text/html`` or ``text/plain`` for an HTTP Content-Type (parameters ignored), else
    None (not a page)."""
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    return PAGE_TYPES.get(mime)


def page_key(page: Mapping[str, Any]) -> bytes | None:
    """The Kafka key of a raw page: its ``id``, else its ``url`` (UTF-8); None without either
    (such a page is sent anyway: the worker dead-letters it with the reason)."""
    key = page.get("id") or page.get("url")
    return str(key).encode() if key else None


class RawProducer:
    """Send raw-article dicts to the raw topic (asyncio). See the module docstring.

    ``bootstrap`` is ``host:port[,host:port]`` (a Faust-style ``kafka://h:p;kafka://h2:p``
    works too); ``client_options`` are passed to aiokafka's producer (SASL/TLS settings).
    """

    def __init__(
        self,
        bootstrap: str = "127.0.0.1:9092",
        topic: str = "articles.raw",
        *,
        max_pending_bytes: int = DEFAULT_MAX_PENDING_BYTES,
        max_request_size: int = DEFAULT_MAX_REQUEST_SIZE,
        linger_ms: int = 5,
        client_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.bootstrap = bootstrap_of(bootstrap)
        self.topic = topic
        self.max_pending_bytes = max_pending_bytes
        self._options: dict[str, Any] = {
            "acks": "all",
            "linger_ms": linger_ms,
            "max_request_size": max_request_size,
            "max_batch_size": 512 * 1024,
            **(client_options or {}),
        }
        self._producer: Any = None
        self._settled: asyncio.Event | None = None
        self._pending = 0
        self._pending_bytes = 0
        self._errors: list[BaseException] = []
        #: pages handed to the producer / acknowledged by the broker
        self.sent = 0
        self.acked = 0

    @property
    def pending(self) -> int:
        """Pages sent and not yet acknowledged (nor failed)."""
        return self._pending

    @property
    def pending_bytes(self) -> int:
        return self._pending_bytes

    async def start(self) -> None:
        """Connect to the broker (raises aiokafka's connection error if none answers)."""
        from aiokafka import AIOKafkaProducer

        self._settled = asyncio.Event()
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, **self._options)
        try:
            await producer.start()
        except BaseException:  # closed also when no broker answers: no "Unclosed" warning
            await producer.stop()
            raise
        self._producer = producer

    async def send(self, page: Mapping[str, Any], key: str | bytes | None = None) -> None:
        """Send one page (keyed by ``key``, else :func:`page_key`); wait while the pages not
        yet acknowledged hold ``max_pending_bytes`` or more. Raises :class:`ProduceError` once a
        page sent earlier has failed."""
        if self._producer is None:
            raise RuntimeError("RawProducer.send before start()")
        self._raise_failed()
        value = orjson.dumps(page)
        key_bytes = key.encode() if isinstance(key, str) else key or page_key(page)
        size = len(value) + len(key_bytes or b"")
        while self._pending and self._pending_bytes + size > self.max_pending_bytes:
            await self._wait_settled()
            self._raise_failed()
        future = await self._producer.send(self.topic, value, key=key_bytes)
        self.sent += 1
        self._pending += 1
        self._pending_bytes += size
        future.add_done_callback(lambda f: self._settle(f, size))

    async def flush(self) -> None:
        """Wait until every page sent so far is acknowledged; raise if any failed."""
        while self._pending:
            await self._wait_settled()
        self._raise_failed()

    async def stop(self) -> None:
        """Flush, then close the connection (closes it even when the flush raises)."""
        if self._producer is None:
            return
        try:
            await self.flush()
        finally:
            producer, self._producer = self._producer, None
            await producer.stop()

    async def __aenter__(self) -> RawProducer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _settle(self, future: asyncio.Future[Any], size: int) -> None:
        self._pending -= 1
        self._pending_bytes -= size
        if future.cancelled():
            self._errors.append(asyncio.CancelledError("send cancelled"))
        elif (error := future.exception()) is not None:
            self._errors.append(error)
        else:
            self.acked += 1
        if self._settled is not None:
            self._settled.set()

    async def _wait_settled(self) -> None:
        assert self._settled is not None
        self._settled.clear()
        await self._settled.wait()

    def _raise_failed(self) -> None:
        if self._errors:
            first = self._errors[0]
            raise ProduceError(
                f"{len(self._errors)} page(s) not acknowledged by the broker "
                f"({type(first).__name__}: {first})"
            ) from first


class SyncRawProducer:
    """:class:`RawProducer` for code without asyncio: its event loop runs in a background
    thread; :meth:`send` blocks only while the pending pages are at the bound (back-pressure),
    :meth:`flush` and :meth:`close` until every page is acknowledged."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="newsflow-producer", daemon=True
        )
        self._thread.start()
        self.producer = RawProducer(*args, **kwargs)
        try:
            self._call(self.producer.start())
        except BaseException:
            self._stop_loop()
            raise

    def send(self, page: Mapping[str, Any], key: str | bytes | None = None) -> None:
        self._call(self.producer.send(page, key))

    def flush(self) -> None:
        self._call(self.producer.flush())

    def close(self) -> None:
        """Flush and disconnect; the background thread ends."""
        if not self._thread.is_alive():
            return
        try:
            self._call(self.producer.stop())
        finally:
            self._stop_loop()

    @property
    def sent(self) -> int:
        return self.producer.sent

    @property
    def acked(self) -> int:
        return self.producer.acked

    def __enter__(self) -> SyncRawProducer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
