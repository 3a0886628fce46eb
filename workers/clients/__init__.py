"""The clients outside the worker: what feeds the raw topic, and the terminal commands.

- ``producer``: :class:`RawProducer` (async) and :class:`SyncRawProducer`, the one small
  producer class that ``newsflow produce``, the WARC reader and the Scrapy pipeline all use.
- ``warc``: WARC archives (``.warc``, ``.warc.gz``) -> raw-article dicts, with skip counts.
- ``scrapy``: a Scrapy item pipeline (``newsflow[scrapy]``).
- the terminal commands: ``produce`` (``newsflow produce``: pages from files and folders),
  ``tail`` (``newsflow tail``: the enriched topic, readably), ``top`` (``newsflow top``: the top
  entities from a worker's HTTP API).

Nothing here imports Faust; aiokafka is imported only when a client starts.
"""

from workers.clients.producer import RawProducer, SyncRawProducer

__all__ = ["RawProducer", "SyncRawProducer"]
