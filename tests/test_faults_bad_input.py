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
SENTENCES = "北海道の鈴木一郎さんは札幌市で新しい店を開いた。政府は来年度の予算案を閣議決定した。"


def _html_deep(n: int) -> str:
    return "<html><body>" + "<div>" * n + JA + "</div>" * n + "</body></html>"


# key -> (raw value, expected outcome: an error_class, or PROCESSED)
PROCESSED = "processed"
BOUNDED = "processed, or dead-lettered as timeout"  # either way within the stage time bound
#: too big an output for the broker, or too slow to extract under the test's 3 s stage timeout
OVERSIZED = "dead-lettered as output_too_large, or as timeout"
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
    # Valid, if odd: processed (markup bounded before parsing, workers/clean/markup.py).
    "html-bomb-deep": ({"url": "https://x.test/m", "body": _html_deep(30_000)}, PROCESSED),
    "html-100k-nested-divs": ({"url": "https://x.test/m2", "body": _html_deep(100_000)}, PROCESSED),
    # 60,000 paragraphs read (the rest said in `truncated`), one entity each: an enriched record
    # of 5 MB, over the broker's 1 MB default, is a dead letter rather than a failed send
    "html-100k-elements": (
        {
            "url": "https://x.test/n",
            "body": "<html><body>" + "<p>東京</p>" * 100_000 + "</body></html>",
        },
        OVERSIZED,
    ),
    "over-sudachi-line": ({"url": "https://x.test/o", "body": JA * 3000}, PROCESSED),
    "escaped-control-chars": (
        {"url": "https://x.test/p", "body": "東京\u0000\u0007で\u001b会見\u200bした。" + JA},
        PROCESSED,
    ),
    "control-chars-in-sentences": (
        {
            "url": "https://x.test/p2",
            "body": "".join(c + "\x00\x07\x1b\x1f"[i % 4] for i, c in enumerate(SENTENCES)),
        },
        PROCESSED,
    ),
    # Text cut by a size bound: processed, the cut said in ``truncated``.
    "line-200kb-no-punctuation": (
        {"url": "https://x.test/t1", "body": JA + "\n" + "あ" * 200_000},
        PROCESSED,
    ),
    "line-1mb-kanji": ({"url": "https://x.test/t2", "body": JA + "\n" + "漢" * 333_333}, PROCESSED),
    "line-3mb-kanji": (
        {"url": "https://x.test/t3", "body": JA + "\n" + "漢" * 1_000_000},
        PROCESSED,
    ),
    "entity-expansion": (
        {
            "url": "https://x.test/t4",
            "content_type": "text/html",
            "body": f"<html><body><p>{JA}</p><p>"
            + "&#x5CB8;&#x7530;" * 10_004
            + "</p></body></html>",
        },
        PROCESSED,
    ),
    # No text left after cleaning: dead-lettered, not enriched empty.
    "emoji-only": ({"url": "https://x.test/e1", "body": "😀🎉👍" * 100}, "empty_text"),
    "script-only": (
        {
            "url": "https://x.test/e2",
            "content_type": "text/html",
            "body": "<html><head><script>var a = 1;</script></head><body></body></html>",
        },
        "empty_text",
    ),
    "controls-only": (
        {"url": "https://x.test/e3", "body": "\x00\x01\x07\x1b\x7f" * 200},
        "empty_text",
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
