"""``newsflow tail``: follow the enriched topic and print each article readably."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from typing import IO, Any

import orjson


def format_article(article: dict[str, Any], width: int = 100) -> str:
    """Title, date, id and the entities (most mentioned first) of one enriched record."""
    ents = Counter((e["type"], e["normalized"]) for e in article.get("entities", []))
    by_type: dict[str, list[str]] = {}
    for (etype, name), n in ents.most_common():
        by_type.setdefault(etype, []).append(f"{name}×{n}" if n > 1 else name)
    lines = [
        f"■ {article.get('title') or '(no title)'}",
        f"  {article.get('published_at') or '-'}  id={article.get('id')}  {article.get('url')}",
        f"  text: {(article.get('text') or '')[:width].replace(chr(10), ' ')}…",
    ]
    lines += [f"  {etype:<12} {', '.join(names)}" for etype, names in sorted(by_type.items())]
    return "\n".join(lines)


async def tail(
    bootstrap: str,
    topic: str,
    *,
    from_beginning: bool = True,
    limit: int | None = None,
    as_json: bool = False,
    idle_timeout_s: float | None = None,
    out: IO[str] | None = None,
    on_no_topic: Callable[[], None] | None = None,
) -> int:
    """Print records until ``limit`` or ``idle_timeout_s`` without a record (with neither it
    follows the topic until interrupted); return the count.

    A topic that is not there yet is waited for (``on_no_topic`` is called once, so the user
    learns that this broker may not be the worker's), and never created by the wait: asking
    for a topic by name would have the broker create it.
    """
    import asyncio
    import time

    from aiokafka import AIOKafkaConsumer

    from workers.endpoints import quiet_client_logs

    out = out or sys.stdout
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
        max_partition_fetch_bytes=16 * 1024 * 1024,
    )
    seen = 0
    try:  # stop() also after a failed start(): no "Unclosed AIOKafkaConsumer"
        with quiet_client_logs():  # no broker: the caller says so in one line
            await consumer.start()
        last = time.monotonic()
        told = False
        while topic not in await consumer.topics():  # all topics' metadata: creates none
            if on_no_topic is not None and not told:
                on_no_topic()
                told = True
            if idle_timeout_s is not None and time.monotonic() - last > idle_timeout_s:
                return 0
            await asyncio.sleep(1.0)
        consumer.subscribe([topic])
        while limit is None or seen < limit:
            batch = await consumer.getmany(timeout_ms=500)
            records = [r for part in batch.values() for r in part]
            if not records:
                if idle_timeout_s is not None and time.monotonic() - last > idle_timeout_s:
                    break
                continue
            last = time.monotonic()
            for record in records:
                if record.value is None:
                    continue
                article = orjson.loads(record.value)
                print(record.value.decode() if as_json else format_article(article), file=out)
                out.flush()
                seen += 1
                if limit is not None and seen >= limit:
                    break
    finally:
        await consumer.stop()
    return seen
