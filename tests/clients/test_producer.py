"""RawProducer and SyncRawProducer on the real broker: keys, acknowledgements, the pending-bytes
bound (back-pressure) and pages the broker refuses."""

from __future__ import annotations

import asyncio

import pytest

from tests.helpers.kafka import consume_until, create_topic, json_values, unique_topic
from workers.clients.producer import ProduceError, RawProducer, SyncRawProducer, page_key, page_type


def test_page_key_and_page_type() -> None:
    assert page_key({"id": "a1", "url": "https://x.jp/1"}) == b"a1"
    assert page_key({"url": "https://x.jp/1"}) == b"https://x.jp/1"
    assert page_key({"body": "no url"}) is None
    assert page_type("text/html; charset=Shift_JIS") == "text/html"
    assert page_type("application/xhtml+xml") == "text/html"
    assert page_type("TEXT/PLAIN") == "text/plain"
    assert page_type("application/pdf") is None and page_type(None) is None


async def test_pending_pages_stay_under_the_bound_and_all_are_acknowledged(
    kafka_bootstrap: str,
) -> None:
    topic = unique_topic("producer")
    await create_topic(kafka_bootstrap, topic, partitions=2)
    bound = 20_000
    pages = [{"url": f"https://x.jp/{i}", "body": "本文" * 900} for i in range(150)]  # ~5.5 KB
    most = 0
    waited = 0
    async with RawProducer(kafka_bootstrap, topic, max_pending_bytes=bound) as producer:
        for page in pages:
            before = producer.pending
            await producer.send(page)
            waited += producer.pending <= before  # send had to wait for acks to make room
            most = max(most, producer.pending_bytes)
    assert most <= bound
    assert waited > 0  # the bound was reached and send waited
    assert producer.sent == producer.acked == len(pages) and producer.pending == 0
    records = await consume_until(kafka_bootstrap, topic, lambda rs: len(rs) >= len(pages))
    assert len(records) == len(pages)
    assert {r.key for r in records} == {p["url"].encode() for p in pages}


async def test_pages_the_broker_refuses_raise_on_flush(kafka_bootstrap: str) -> None:
    topic = unique_topic("refuse")
    await create_topic(kafka_bootstrap, topic, config={"max.message.bytes": "2000"})
    producer = RawProducer(kafka_bootstrap, topic)
    await producer.start()
    try:
        await producer.send({"url": "https://x.jp/small", "body": "短い"})
        await producer.flush()  # its own batch (a refused batch fails all its pages)
        await producer.send({"url": "https://x.jp/big", "body": "長い" * 3000})
        with pytest.raises(ProduceError, match="1 page"):
            await producer.flush()
        assert producer.acked == 1
    finally:
        with pytest.raises(ProduceError):
            await producer.stop()


def test_sync_producer_sends_from_plain_code(kafka_bootstrap: str) -> None:
    topic = unique_topic("sync")
    pages = [{"id": f"id-{i}", "url": f"https://x.jp/{i}", "body": f"本文{i}"} for i in range(40)]
    with SyncRawProducer(kafka_bootstrap, topic) as producer:
        for page in pages:
            producer.send(page)
    assert producer.acked == 40
    records = asyncio.run(consume_until(kafka_bootstrap, topic, lambda rs: len(rs) >= 40))
    assert sorted(r.key for r in records) == sorted(p["id"].encode() for p in pages)
    assert sorted(v["body"] for v in json_values(records)) == sorted(p["body"] for p in pages)


def test_produce_pages_works_on_the_embedded_tansu_broker() -> None:
    """``newsflow up --demo`` feeds its pages through RawProducer to Tansu."""
    from workers.brokers.tansu import TansuBroker
    from workers.clients.produce import produce_pages

    broker = TansuBroker()
    broker.start()
    try:
        pages = [{"url": f"https://x.jp/{i}", "body": "本文" * 3000} for i in range(30)]
        sent = asyncio.run(produce_pages(broker.bootstrap, "tansu.raw", pages, progress=False))
        assert sent == 30
        records = asyncio.run(
            consume_until(broker.bootstrap, "tansu.raw", lambda rs: len(rs) >= 30, timeout=30)
        )
        assert sorted(r.key for r in records) == sorted(p["url"].encode() for p in pages)
    finally:
        broker.stop()
