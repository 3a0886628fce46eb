"""Markup in an entity name and in a dead-letter reason shows as text and runs nothing.

The Japanese extractor does not tag ``<``/``>`` into entity names, so the entity half comes from
a crafted record on the enriched topic (what the count stage consumes); the dead-letter half from
records whose key and whose reason carry markup and quotes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
import pytest

from tests.helpers.kafka import produce
from tests.helpers.worker import WorkerProcess
from tests.web.browser import browser_page
from tests.web.live import LiveWorker, require_browser

PERSON = """<img src=x onerror="window.__xss='person'">"""
ORG = """<script>window.__xss='org'</script>"'&amp;"""
KEY = """<svg onload="window.__xss='key'">"""
SOURCE = """<img src=y onerror="window.__xss=4">"""  # the reason quotes it: '<img ...>'


def run(coro: object) -> None:
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result()  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def hostile(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveWorker]:
    worker = WorkerProcess(kafka_bootstrap, tmp_path_factory.mktemp("xss")).start()
    topics = worker.topics
    enriched = {
        "id": "xss-article",
        "content_hash": "xss",
        "mentions": {f"PERSON:{PERSON}": 3, f"ORGANIZATION:{ORG}": 2},
        "timestamps": {"produced": time.time()},
    }
    # The count-apply stage reads int(source[0]): ValueError's message quotes the markup.
    bad_delta = {"article_id": "x", "source": [SOURCE, 0], "changes": []}
    try:
        run(produce(kafka_bootstrap, topics["enriched"], [enriched], keys=[b"xss-article"]))
        run(produce(kafka_bootstrap, topics["raw"], [b"{not json"], keys=[KEY.encode()]))
        worker.wait_for("/api/entities/top", lambda b: len(b["entities"]) == 2, timeout=90)
        run(produce(kafka_bootstrap, topics["mentions"], [orjson.dumps(bad_delta)], partition=0))
        worker.wait_for("/api/deadletters/recent", lambda b: b["total"] >= 2, timeout=60)
        yield LiveWorker(worker)
    finally:
        worker.stop()


def test_api_keeps_the_markup_verbatim(hostile: LiveWorker) -> None:
    keys = {r["key"] for r in hostile.worker.get("/api/entities/top")["entities"]}
    assert keys == {f"PERSON:{PERSON}", f"ORGANIZATION:{ORG}"}
    recent = hostile.worker.get("/api/deadletters/recent")["recent"]
    assert any(SOURCE in d["reason"] for d in recent)
    assert any(d["source"]["key"] == KEY for d in recent)


def test_dashboard_shows_markup_as_text_and_runs_no_script(hostile: LiveWorker) -> None:
    require_browser()
    with browser_page() as page:
        dialogs: list[str] = []

        def on_dialog(dialog: Any) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.goto(hostile.url("/"))
        page.wait_for_selector('#status[data-state="live"]', timeout=20_000)
        texts = page.evaluate(
            """() => ({
                top: [...document.querySelectorAll('#top td.name')].map(e => e.textContent),
                trending: [...document.querySelectorAll('#trending td.name span:last-child')]
                    .map(e => e.textContent),
                bytype: [...document.querySelectorAll('#bytype td.name')].map(e => e.textContent),
                reasons: [...document.querySelectorAll('#deadletters td.reason')]
                    .map(e => e.textContent),
                sources: [...document.querySelectorAll('#deadletters td:last-child')]
                    .map(e => e.textContent),
            })"""
        )
        assert sorted(texts["top"]) == sorted([PERSON, ORG])
        assert sorted(texts["trending"]) == sorted([PERSON, ORG])
        assert sorted(texts["bytype"]) == sorted([PERSON, ORG])
        assert any(SOURCE in r for r in texts["reasons"])
        assert any(s.endswith(f" key {KEY}") for s in texts["sources"])
        page.wait_for_function("() => window.__newsflow.polls >= 3", timeout=20_000)
        assert page.evaluate("typeof window.__xss") == "undefined"
        assert not dialogs
        injected = page.evaluate(
            "() => document.querySelectorAll('main img, main script, main svg[onload]').length"
        )
        assert injected == 0
