"""Feeding the raw topic from outside the worker: crawlers and archives.

- ``producer``: :class:`RawProducer` (async) and :class:`SyncRawProducer`, the one small
  producer class that ``newsflow produce``, the WARC reader and the Scrapy pipeline all use.
- ``warc``: WARC archives (``.warc``, ``.warc.gz``) -> raw-article dicts, with skip counts.
- ``scrapy``: a Scrapy item pipeline (``newsflow[scrapy]``).

Nothing here imports Faust; ``producer`` imports aiokafka only when a producer starts.
"""

from workers.clients.producer import RawProducer, SyncRawProducer

__all__ = ["RawProducer", "SyncRawProducer"]
