"""Issues 6.1 and 15: a matrix of bad raw records on a real broker, interleaved with good pages.

Each bad record ends in the dead-letter topic with a reason, or is processed where it is in
fact valid (``PROCESSED``); nothing crashes or stalls: every good page is enriched.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from tests.helpers.bad_inputs import (
    BOUNDED,
    GOOD,
    JA,
    OPEN,
    OVERSIZED,
    PROCESSED,
    SENTENCES,
    bad_inputs,
)
from tests.helpers.kafka import consume_until, create_topic, json_values, produce
from tests.helpers.worker import WorkerProcess
from workers.bench.corpus import generate_pages
from workers.contracts import validator

#: The kinds whose outcome is fixed (the matrix in tests/helpers/bad_inputs.py); the open ones
#: only have to end somewhere, which the fault harness (tests/chaos) checks.
CASES: dict[str, tuple[Any, str]] = {
    c.name: (c.value, c.outcome) for c in bad_inputs() if c.outcome != OPEN
}


@pytest.fixture(scope="module")
def bad_run(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory):
    """One worker (3 s stage timeout); bad records interleaved with good generated pages."""
    worker = WorkerProcess(
        kafka_bootstrap, tmp_path_factory.mktemp("bad"), extra_env={"NEWSFLOW_STAGE_TIMEOUT_S": "3"}
    )
    t = worker.topics
    goods = list(generate_pages(len(CASES) + 1, seed=5, kind="mixed"))
    values: list[Any] = [{"id": "dup-1", **GOOD}]
    keys: list[Any] = [b"dup-1"]
    for (name, (value, _)), good in zip(CASES.items(), goods, strict=False):
        values += [value, good]
        keys += [name.encode(), good["id"].encode()]

    async def run() -> tuple[list[Any], list[Any]]:
        for value, key in zip(values, keys, strict=True):  # one by one: keeps each under limits
            await produce(kafka_bootstrap, t["raw"], [value], keys=[key], max_request_size=16 << 20)
        want_good = {g["id"] for g in goods[: len(CASES)]} | {"dup-1"}
        processed = {k for k, (_, outcome) in CASES.items() if outcome == PROCESSED}
        bounded = {k for k, (_, outcome) in CASES.items() if outcome == BOUNDED}
        oversized = {k for k, (_, outcome) in CASES.items() if outcome == OVERSIZED}
        strict_dead = set(CASES) - processed - bounded - oversized
        seen: dict[str, list[Any]] = {"enriched": [], "dead": []}

        def settled() -> bool:
            """Every good page and valid odd record enriched, every bad one dead-lettered, each
            bounded one in either (it may go both ways, so both topics are watched at once)."""
            e_keys = {r.key.decode() for r in seen["enriched"] if r.key}
            d_keys = {r.key.decode() for r in seen["dead"] if r.key}
            e_urls = {orjson.loads(r.value)["url"] for r in seen["enriched"] if r.value}
            d_urls = _letter_urls(json_values(seen["dead"]))
            return (
                want_good <= e_keys
                and all(CASES[k][0]["url"] in e_urls for k in processed)
                and strict_dead <= d_keys
                and all(k in d_keys or CASES[k][0]["url"] in e_urls for k in bounded)
                and all(CASES[k][0]["url"] in d_urls for k in oversized)
            )

        def watch(name: str) -> Any:
            def predicate(records: list[Any]) -> bool:
                seen[name] = records
                return settled()

            return predicate

        enriched, dead = await asyncio.gather(
            consume_until(kafka_bootstrap, t["enriched"], watch("enriched"), timeout=300),
            consume_until(kafka_bootstrap, t["deadletter"], watch("dead"), timeout=300),
        )
        return json_values(enriched), json_values(dead)

    # Big records need a raw topic that accepts them (a crawler's topic would be set so);
    # made before the worker starts, which would create it with the defaults.
    big = {"max.message.bytes": str(16 << 20)}
    asyncio.run(create_topic(kafka_bootstrap, t["raw"], 2, big))
    worker.start()
    try:
        yield asyncio.run(run())
    finally:
        worker.stop()


def _letter_urls(letters: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Dead letters of the extract stage by the URL in their original (a cleaned record, keyed
    by article id, not by the raw record's key)."""
    by_url: dict[str, list[dict[str, Any]]] = {}
    for letter in letters:
        if letter["stage"] == "extract" and letter["original_encoding"] == "utf-8":
            url = orjson.loads(letter["original"]).get("url")
            by_url.setdefault(url, []).append(letter)
    return by_url


@pytest.mark.parametrize("name", list(CASES))
def test_bad_record_outcome(bad_run, name: str) -> None:
    enriched, dead = bad_run
    _, outcome = CASES[name]
    letters = [d for d in dead if d["source"]["key"] == name]
    if outcome == OVERSIZED:
        letters = _letter_urls(dead).get(CASES[name][0]["url"], [])
        assert [d["error_class"] for d in letters] in (["output_too_large"], ["timeout"])
        assert CASES[name][0]["url"] not in {r["url"] for r in enriched}
    elif outcome == BOUNDED:
        assert [d["error_class"] for d in letters] in ([], ["timeout"])
        if not letters:
            assert CASES[name][0]["url"] in {r["url"] for r in enriched}
    elif outcome == PROCESSED:
        assert not letters, letters
        urls = {r["url"] for r in enriched}
        assert CASES[name][0]["url"] in urls
        for r in enriched:
            for e in r["entities"]:
                assert r["text"][e["start"] : e["end"]] == e["text"]
    else:
        assert len(letters) == 1, [d["error_class"] for d in letters]
        validator("deadletter")(letters[0])
        assert letters[0]["error_class"] == outcome
        assert letters[0]["reason"]


def _enriched(enriched: list[Any], name: str) -> dict[str, Any]:
    url = CASES[name][0]["url"]
    return next(r for r in enriched if r["url"] == url)


def test_the_control_character_page_keeps_its_sentences(bad_run) -> None:
    enriched, _ = bad_run
    record = _enriched(enriched, "control-chars-in-sentences")
    assert record["text"] == SENTENCES and record["truncated"] is None
    assert {("LOCATION", "北海道"), ("PERSON", "鈴木一郎")} <= {
        (e["type"], e["text"]) for e in record["entities"]
    }


@pytest.mark.parametrize(
    ("name", "original"),
    [("line-200kb-no-punctuation", 200_000), ("line-1mb-kanji", 333_333),
     ("line-3mb-kanji", 1_000_000)],
)  # fmt: skip
def test_cut_text_is_said_in_the_enriched_record(bad_run, name: str, original: int) -> None:
    enriched, _ = bad_run
    record = _enriched(enriched, name)
    assert record["truncated"]["line_chars"] == {"lines": 1, "original": original, "kept": 20_000}
    assert record["text"].startswith(JA) and len(record["text"]) == len(JA) + 1 + 20_000
    validator("enriched-article")(record)


def test_the_entity_expansion_page_gives_no_overlong_entity(bad_run) -> None:
    from workers.extract.rules import MAX_NAME_CHARS

    enriched, _ = bad_run
    record = _enriched(enriched, "entity-expansion")
    assert record["truncated"]["line_chars"]["original"] == 20_008
    assert record["entities"]
    assert all(e["end"] - e["start"] <= MAX_NAME_CHARS for e in record["entities"])
    assert all(len(key) <= MAX_NAME_CHARS + len("ORGANIZATION:") for key in record["mentions"])


def test_every_good_page_between_them_is_enriched(bad_run) -> None:
    enriched, _ = bad_run
    ids = {r["id"] for r in enriched}
    goods = list(generate_pages(len(CASES), seed=5, kind="mixed"))
    assert {g["id"] for g in goods} <= ids


def test_duplicate_id_with_other_content_is_a_new_version(bad_run) -> None:
    enriched, _ = bad_run
    versions = [r for r in enriched if r["id"] == "dup-1"]
    assert len(versions) == 2
    assert len({r["content_hash"] for r in versions}) == 2
