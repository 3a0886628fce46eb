"""A Scrapy item pipeline that sends every page the spider yields to the raw topic
(``pip install 'newsflow[scrapy]'``).

The three lines a Scrapy project adds to its ``settings.py``::

    ITEM_PIPELINES = {"workers.clients.scrapy.NewsflowPipeline": 300}
    NEWSFLOW_BROKER = "127.0.0.1:9092"       # host:port[,host:port] (or kafka:// URLs)
    NEWSFLOW_TOPIC = "articles.raw"

and its spider yields pages, e.g. with :func:`page_item`::

    from workers.clients.scrapy import page_item

    def parse(self, response):
        yield page_item(response)
        yield from response.follow_all(css="article a", callback=self.parse)

What the pipeline does:

- An item with a ``url`` and a ``body`` is sent as a raw article ``{url, body, content_type,
  fetched_at, …}`` (every other field of the item too; ``fetched_at`` defaults to now),
  keyed by its ``id`` or else its URL, so re-crawls of one page stay in order. A bytes body is
  decoded by the cleaner's decoder (the item's ``charset`` field, if any, as the declared
  charset). Other items pass through untouched; every item is returned for later pipelines.
- **Back-pressure**: ``process_item`` waits while the pages not yet acknowledged hold
  ``NEWSFLOW_MAX_PENDING_BYTES`` (32 MiB); Scrapy then stops scheduling item work and, through
  its scraper slot limits, downloads.
- **No lost items at shutdown**: ``close_spider`` returns only when the broker has acknowledged
  every page (acks=all); pages it did not acknowledge are logged as an error and counted in the
  crawl stats (``newsflow/failed``), next to ``newsflow/sent`` and ``newsflow/acked``.
- Settings: ``NEWSFLOW_BROKER`` and ``NEWSFLOW_TOPIC`` (defaults: the ``NEWSFLOW_BROKER`` and
  ``NEWSFLOW_RAW_TOPICS`` environment variables the worker reads, else ``127.0.0.1:9092`` /
  ``articles.raw``), ``NEWSFLOW_MAX_PENDING_BYTES``, ``NEWSFLOW_PRODUCER_OPTIONS`` (a dict of
  aiokafka producer arguments: SASL/TLS).

It needs Scrapy's asyncio reactor (``TWISTED_REACTOR =
"twisted.internet.asyncioreactor.AsyncioSelectorReactor"``, the default since Scrapy 2.13).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from workers.clean.charset import decode_page
from workers.clients.producer import DEFAULT_MAX_PENDING_BYTES, RawProducer, page_type

log = logging.getLogger("newsflow.scrapy")


def page_item(response: Any) -> dict[str, Any]:
    """A page item from a Scrapy response: url, body (decoded by the cleaner's decoder from the
    HTTP charset, ``<meta>`` or strict guesses), content_type (``text/html`` / ``text/plain``,
    or None to let the worker sniff it) and fetched_at (now, UTC)."""
    header = response.headers.get(b"Content-Type") or b""
    content_type = header.decode("latin-1")
    charset = None
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'")
    return {
        "url": response.url,
        "body": decode_page(response.body, charset),
        "content_type": page_type(content_type),
        "fetched_at": _now(),
    }


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class NewsflowPipeline:
    """Scrapy item pipeline: page items -> the raw topic through :class:`RawProducer`."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        max_pending_bytes: int = DEFAULT_MAX_PENDING_BYTES,
        producer_options: dict[str, Any] | None = None,
        stats: Any = None,
    ) -> None:
        self.producer = RawProducer(
            bootstrap,
            topic,
            max_pending_bytes=max_pending_bytes,
            client_options=producer_options,
        )
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> NewsflowPipeline:
        from workers.settings import Settings

        env = Settings.from_env()
        settings = crawler.settings
        return cls(
            bootstrap=settings.get("NEWSFLOW_BROKER") or env.broker,
            topic=settings.get("NEWSFLOW_TOPIC") or env.raw_topics[0],
            max_pending_bytes=settings.getint(
                "NEWSFLOW_MAX_PENDING_BYTES", DEFAULT_MAX_PENDING_BYTES
            ),
            producer_options=settings.getdict("NEWSFLOW_PRODUCER_OPTIONS") or None,
            stats=crawler.stats,
        )

    async def open_spider(self, spider: Any = None) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "NewsflowPipeline needs Scrapy's asyncio reactor: TWISTED_REACTOR = "
                '"twisted.internet.asyncioreactor.AsyncioSelectorReactor"'
            ) from None
        await self.producer.start()
        log.info("sending pages to %s on %s", self.producer.topic, self.producer.bootstrap)

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        from itemadapter import ItemAdapter

        fields = ItemAdapter(item).asdict()
        if not fields.get("url") or fields.get("body") is None:
            self._inc("newsflow/passed_through")
            return item
        page = {k: v for k, v in fields.items() if v is not None}
        charset = page.pop("charset", None)  # for a bytes body
        if isinstance(page["body"], bytes):
            page["body"] = decode_page(page["body"], charset)
        page.setdefault("fetched_at", _now())
        await self.producer.send(page)
        self._inc("newsflow/sent")
        return item

    async def close_spider(self, spider: Any = None) -> None:
        try:
            await self.producer.stop()
        finally:
            failed = self.producer.sent - self.producer.acked
            self._inc("newsflow/acked", self.producer.acked)
            if failed:
                self._inc("newsflow/failed", failed)
                log.error("%d page(s) were not acknowledged by the broker", failed)
            log.info("%d page(s) acknowledged on %s", self.producer.acked, self.producer.topic)

    def _inc(self, key: str, n: int = 1) -> None:
        if self.stats is not None:
            self.stats.inc_value(key, n)
