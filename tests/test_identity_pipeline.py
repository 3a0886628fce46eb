"""Entity identity on a real Kafka broker: articles that write one entity four ways, one of them
a short form that arrives before the article defining it, give one row with the exact total in
``/api/entities/top``; any of the names finds it; and so it stays after a worker restart (the
alias book refilled from the ``aliases`` GlobalTable, the counts replayed or not)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from urllib.parse import quote

import pytest
from aiokafka.structs import ConsumerRecord

from tests.helpers.kafka import consume_until, json_values, produce
from tests.helpers.worker import WorkerProcess
from workers.contracts import validator

TEPCO = "ORGANIZATION:東京電力ホールディングス"
# One entity written four ways: 東電 (before anything defines it), 東京電力ホールディングス,
# TEPCO (defined in a bracket, then alone) and 東京電力 (beside the full name). 6 mentions.
ARTICLES = [
    ("tepco-1", "東電は3日、福島第1原発の処理水の放出を再開した。"),
    ("tepco-2", "東京電力ホールディングス（TEPCO）は4日、新たな廃炉計画を発表した。"),
    ("tepco-3", "TEPCOの社長は記者会見で、計画を説明した。"),
    ("tepco-4", "東京電力ホールディングスによると、作業は順調だ。東京電力の担当者が説明した。"),
]
FORMS = {"東電": 1, "東京電力ホールディングス": 2, "TEPCO": 2, "東京電力": 1}
AFTER_RESTART = ("tepco-5", "東電は6日、追加の放出を始めた。")


def page(article_id: str, text: str) -> dict[str, str]:
    return {"id": article_id, "url": f"https://example.test/{article_id}", "body": text,
            "content_type": "text/plain", "source": "identity-test"}  # fmt: skip


def produce_articles(worker: WorkerProcess, articles: list[tuple[str, str]]) -> None:
    """One article at a time: the short form 東電 is read (and counted) before the article
    that defines the entity is even produced."""
    for article_id, text in articles:
        raw, enriched = worker.topics["raw"], worker.topics["enriched"]
        asyncio.run(produce(worker.bootstrap, raw, [page(article_id, text)], keys=[article_id]))
        key = article_id.encode()

        def arrived(records: list[ConsumerRecord], key: bytes = key) -> bool:
            return any(r.key == key for r in records)

        asyncio.run(consume_until(worker.bootstrap, enriched, arrived, timeout=60))


def enriched_records(worker: WorkerProcess, n: int) -> list[dict]:
    got = asyncio.run(
        consume_until(worker.bootstrap, worker.topics["enriched"], lambda rs: len(rs) >= n)
    )
    return json_values(got)


def tepco_row(body: dict) -> dict | None:
    rows = [r for r in body["entities"] if r["key"] == TEPCO]
    return rows[0] if rows else None


def counted(total: int) -> Callable[[dict], bool]:
    """A predicate for wait_for: the entity's one row has ``total`` mentions."""

    def check(body: dict) -> bool:
        row = tepco_row(body)
        return row is not None and row["count"] == total

    return check


@pytest.fixture(scope="module")
def worker(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    w = WorkerProcess(kafka_bootstrap, tmp_path_factory.mktemp("identity"), partitions=2)
    w.start()
    try:
        yield w
    finally:
        w.stop()


def test_one_entity_written_four_ways_is_one_row_with_the_exact_total(
    worker: WorkerProcess,
) -> None:
    produce_articles(worker, ARTICLES[:1])
    # counted under its own key: nothing has defined 東電 yet
    first = worker.wait_for("/api/entities/top?limit=1000", lambda b: any(
        r["key"] == "ORGANIZATION:東電" for r in b["entities"]), timeout=60)  # fmt: skip
    assert tepco_row(first) is None
    produce_articles(worker, ARTICLES[1:])
    body = worker.wait_for("/api/entities/top?limit=1000", counted(6), timeout=60)
    names = {r["name"] for r in body["entities"]}
    assert not names & {"東電", "TEPCO", "東京電力"}  # no row of its own for any alias
    row = tepco_row(body)
    assert row is not None and row["aliases"] == ["東電"]  # counted before it was learned
    assert body["by_type"]["ORGANIZATION"] >= 6

    records = enriched_records(worker, 4)
    for record in records:
        validator("enriched-article")(record)
    keys = {e["text"]: e["key"] for r in records for e in r["entities"]}
    assert keys["東電"] == "ORGANIZATION:東電"  # its key when it was extracted
    assert keys["TEPCO"] == keys["東京電力"] == keys["東京電力ホールディングス"] == TEPCO


def test_any_alias_finds_the_entity_with_its_forms_and_counts(worker: WorkerProcess) -> None:
    for name in ("ORGANIZATION:東電", "ORGANIZATION:TEPCO", TEPCO, "東電"):
        detail = worker.get("/api/entities/" + quote(name, safe=""))
        assert detail["key"] == TEPCO and detail["total"] == 6, name
        assert {a["name"]: a["count"] for a in detail["aliases"]} == FORMS
        assert {k["key"]: k["count"] for k in detail["keys"]} == {TEPCO: 5, "ORGANIZATION:東電": 1}
        assert sum(p["count"] for p in detail["last_hours"]) == 6


def test_after_a_restart_the_row_is_exact_and_the_alias_still_known(
    worker: WorkerProcess,
) -> None:
    worker.stop()
    worker.start()
    worker.wait_for("/api/entities/top?limit=1000", counted(6), timeout=90)
    # the book was refilled from the aliases table: a new 東電 gets the full name's key
    produce_articles(worker, [AFTER_RESTART])
    body = worker.wait_for("/api/entities/top?limit=1000", counted(7), timeout=60)
    assert sum(1 for r in body["entities"] if r["key"] == TEPCO) == 1
    records = enriched_records(worker, 5)
    last = [r for r in records if r["id"] == AFTER_RESTART[0]][-1]
    assert [e["key"] for e in last["entities"] if e["text"] == "東電"] == [TEPCO]
    detail = worker.get("/api/entities/" + quote("ORGANIZATION:東電", safe=""))
    assert detail["total"] == 7 and {a["name"]: a["count"] for a in detail["aliases"]} == {
        **FORMS,
        "東電": 2,
    }
