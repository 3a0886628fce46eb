"""Issue 6.1: a matrix of bad raw records on a real broker, interleaved with good pages.

Each bad record ends in the dead-letter topic with a reason, or is processed where it is in
fact valid (``PROCESSED``); nothing crashes or stalls: every good page is enriched.
"""

from __future__ import annotations

import asyncio
import gzip
from typing import Any

import orjson
import pytest

from tests.helpers.kafka import consume_until, create_topic, json_values, produce
from tests.helpers.worker import WorkerProcess
from workers.bench.corpus import generate_pages
from workers.contracts import validator

JA = "東京都の山田太郎知事は大阪で記者会見を開いた。"
GOOD = {"url": "https://example.test/ok", "body": JA * 3}


def _html_deep(n: int) -> str:
    return "<html><body>" + "<div>" * n + JA + "</div>" * n + "</body></html>"


# key -> (raw value, expected outcome: an error_class, or PROCESSED)
PROCESSED = "processed"
BOUNDED = "processed, or dead-lettered as timeout"  # either way within the stage time bound
CASES: dict[str, tuple[Any, str]] = {
    "not-json": (b"\x00\x01 this is { not json", "invalid_json"),
    "invalid-utf8": (b'{"url": "https://x.test/a", "body": "\xff\xfe\xfa"}', "invalid_json"),
    "json-array": (b"[1, 2, 3]", "not_an_object"),
    "json-string": (b'"just a string"', "not_an_object"),
    "missing-url": ({"body": JA}, "invalid_record"),
    "missing-body": ({"url": "https://x.test/b"}, "invalid_record"),
    "body-not-string": ({"url": "https://x.test/c", "body": 12345}, "invalid_record"),
    "url-not-string": ({"url": ["a"], "body": JA}, "invalid_record"),
    "empty-body": ({"url": "https://x.test/d", "body": ""}, "empty_body"),
    "whitespace-body": ({"url": "https://x.test/e", "body": " \n\t\u3000 "}, "empty_body"),
    "too-large-10mb": ({"url": "https://x.test/f", "body": "あ" * 3_500_000}, "too_large"),
    "single-5mb-line": ({"url": "https://x.test/g", "body": "a" * 5_000_000}, "too_large"),
    "binary": (bytes(range(256)) * 8, "invalid_json"),
    "gzip": (gzip.compress(orjson.dumps({"url": "https://x.test/h", "body": JA})), "invalid_json"),
    "lone-surrogate": (b'{"url": "https://x.test/i", "body": "\\ud800 x"}', "invalid_json"),
    "raw-control-char": (b'{"url": "https://x.test/j", "body": "a\x01b"}', "invalid_json"),
    "unknown-content-type": (
        {"url": "https://x.test/k", "body": JA, "content_type": "application/pdf"},
        "invalid_record",
    ),
    "null-url": ({"url": None, "body": JA}, "invalid_record"),
    "huge-title": ({"url": "https://x.test/l", "body": JA, "title": "長" * 5000}, "invalid_record"),
    "tombstone": (None, "tombstone"),
    # Valid, if odd: processed, within the stage time bound (or dead-lettered as timeout).
    "html-bomb-deep": ({"url": "https://x.test/m", "body": _html_deep(30_000)}, BOUNDED),
    "html-100k-elements": (
        {
            "url": "https://x.test/n",
            "body": "<html><body>" + "<p>東京</p>" * 100_000 + "</body></html>",
        },
        BOUNDED,
    ),
    "over-sudachi-line": ({"url": "https://x.test/o", "body": JA * 3000}, PROCESSED),
    "escaped-control-chars": (
        {"url": "https://x.test/p", "body": "東京\u0000\u0007で\u001b会見\u200bした。" + JA},
        PROCESSED,
    ),
    "non-japanese": (
        {"url": "https://x.test/q", "body": "The mayor met the press. " * 20},
        PROCESSED,
    ),
    "null-optional-fields": (
        {"url": "https://x.test/r", "body": JA, "title": None, "source": None, "lang": None},
        PROCESSED,
    ),
    "duplicate-id-other-content": (
        {"id": "dup-1", "url": "https://x.test/other", "body": "大阪市の会見で話した。" + JA},
        PROCESSED,
    ),
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
        strict_dead = set(CASES) - processed - bounded
        seen: dict[str, list[Any]] = {"enriched": [], "dead": []}

        def settled() -> bool:
            """Every good page and valid odd record enriched, every bad one dead-lettered, each
            bounded one in either (it may go both ways, so both topics are watched at once)."""
            e_keys = {r.key.decode() for r in seen["enriched"] if r.key}
            d_keys = {r.key.decode() for r in seen["dead"] if r.key}
            e_urls = {orjson.loads(r.value)["url"] for r in seen["enriched"] if r.value}
            return (
                want_good <= e_keys
                and all(CASES[k][0]["url"] in e_urls for k in processed)
                and strict_dead <= d_keys
                and all(k in d_keys or CASES[k][0]["url"] in e_urls for k in bounded)
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


@pytest.mark.parametrize("name", list(CASES))
def test_bad_record_outcome(bad_run, name: str) -> None:
    enriched, dead = bad_run
    _, outcome = CASES[name]
    letters = [d for d in dead if d["source"]["key"] == name]
    if outcome == BOUNDED:
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
