"""The whole flow on a real Kafka broker: raw page -> cleaned -> enriched -> count tables."""

from __future__ import annotations

import base64
import unicodedata
from collections import Counter
from pathlib import Path

import orjson
import pytest

from tests.helpers.kafka import consume_until, json_values, produce
from tests.helpers.worker import WorkerProcess
from workers.contracts import default_article_id, validator

SEED = Path(__file__).resolve().parents[1] / ".." / "shared" / "seed"
NOT_JSON = b"\xff\xfe not json {"
HEADLINE = "ロシア「北朝鮮シフト」鮮明、北東アジアの地政学どう変わる"


def nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


@pytest.fixture(scope="module")
def seed_run(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory):
    """One worker; a non-JSON record, a record without body, then the seed page."""
    import asyncio

    page = (SEED / "page.txt").read_text(encoding="utf-8")
    seed = {"url": "https://example.test/seed", "body": page, "source": "seed"}
    worker = WorkerProcess(kafka_bootstrap, tmp_path_factory.mktemp("pipeline")).start()
    topics = worker.topics

    async def run() -> tuple[list, list]:
        await produce(
            kafka_bootstrap,
            topics["raw"],
            [NOT_JSON, {"url": "https://example.test/no-body"}, seed],
            keys=[b"bad-1", b"bad-2", b"seed"],
        )
        enriched = await consume_until(
            kafka_bootstrap, topics["enriched"], lambda rs: len(rs) >= 1, timeout=90
        )
        dead = await consume_until(
            kafka_bootstrap, topics["deadletter"], lambda rs: len(rs) >= 2, timeout=30
        )
        return json_values(enriched), json_values(dead)

    try:
        enriched, dead = asyncio.run(run())
        yield worker, enriched, dead
    finally:
        worker.stop()


def test_seed_page_is_enriched_with_the_article_body(seed_run) -> None:
    _, enriched, _ = seed_run
    assert len(enriched) == 1
    record = enriched[0]
    validator("enriched-article")(record)
    assert record["id"] == default_article_id("https://example.test/seed")
    text = record["text"]
    for line in (SEED / "body.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            assert nfkc(line.strip()) in text
    assert record["title"] == HEADLINE
    assert record["published_at"] == "2024-06-20T11:39:00+09:00"


def test_seed_page_text_leaves_out_the_rankings(seed_run) -> None:
    _, enriched, _ = seed_run
    text = enriched[0]["text"]
    page_lines = (SEED / "page.txt").read_text(encoding="utf-8").splitlines()
    body_last = (SEED / "body.txt").read_text(encoding="utf-8").splitlines()[-1].strip()
    after_body = page_lines[[ln.strip() for ln in page_lines].index(body_last) + 1 :]
    ranking_titles = [ln.strip() for ln in after_body if len(ln.strip()) >= 15]
    assert len(ranking_titles) > 10  # the page really has them
    leaked = [t for t in ranking_titles if nfkc(t) in text]
    assert not leaked


def test_seed_entities_have_offsets_that_slice_the_text(seed_run) -> None:
    _, enriched, _ = seed_run
    record = enriched[0]
    text = record["text"]
    found = {(e["type"], e["normalized"]) for e in record["entities"]}
    for expected in [("PERSON", "プーチン"), ("LOCATION", "ロシア"), ("LOCATION", "北朝鮮")]:
        assert expected in found
    for e in record["entities"]:
        assert text[e["start"] : e["end"]] == e["text"]


def test_count_table_equals_the_mentions_in_the_record(seed_run) -> None:
    worker, enriched, _ = seed_run
    record = enriched[0]
    expected = Counter(e["key"] for e in record["entities"])
    assert expected == Counter(record["mentions"])

    by_type = Counter(e["type"] for e in record["entities"])

    def counted(body: dict) -> bool:
        """All of the record's keys counted (the count agent trails the enriched topic)."""
        counts = {row["key"]: row["count"] for row in body["entities"]}
        return counts == dict(expected) and body["by_type"] == dict(by_type)

    body = worker.wait_for("/api/entities/top?limit=1000", counted, timeout=60)
    counts = {row["key"]: row["count"] for row in body["entities"]}
    assert counts == dict(expected)
    assert body["by_type"] == dict(by_type)


def test_bad_records_are_dead_lettered_with_a_reason(seed_run) -> None:
    _, _, dead = seed_run
    assert len(dead) == 2
    for letter in dead:
        validator("deadletter")(letter)
        assert letter["reason"]
    by_key = {d["source"]["key"]: d for d in dead}
    assert by_key["bad-1"]["error_class"] == "invalid_json"
    assert by_key["bad-1"]["original_encoding"] == "base64"
    assert base64.b64decode(by_key["bad-1"]["original"]) == NOT_JSON
    assert by_key["bad-2"]["error_class"] == "invalid_record"
    assert "body" in by_key["bad-2"]["reason"]
    assert orjson.loads(by_key["bad-2"]["original"]) == {"url": "https://example.test/no-body"}
