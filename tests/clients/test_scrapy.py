"""The Scrapy pipeline: a real crawl (CrawlerProcess in a child process) of a local site of
linked Japanese news pages, pipeline on, through a worker on the real broker."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import unicodedata
from pathlib import Path

from tests.helpers.crawl import news_site, news_site_pages
from tests.helpers.kafka import consume_until, json_values
from tests.helpers.worker import WorkerProcess

ROOT = Path(__file__).resolve().parents[2]


def nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


def test_a_scrapy_crawl_with_the_pipeline_on_gets_every_page_enriched(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    pages = news_site_pages()
    articles = {path: page for path, page in pages.items() if path.startswith("/news/")}
    with news_site(pages) as base, WorkerProcess(kafka_bootstrap, tmp_path) as worker:
        topics = worker.topics
        crawl = subprocess.run(
            # a pending bound of ~2 pages: process_item has to wait for acknowledgements
            [sys.executable, "-m", "tests.helpers.scrapy_crawl", f"{base}/", kafka_bootstrap,
             topics["raw"], "1500"],
            cwd=ROOT, capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert crawl.returncode == 0, crawl.stderr[-3000:]
        stats = json.loads(crawl.stdout.strip().splitlines()[-1])
        # every page acknowledged before the crawl ended
        assert stats == {"newsflow/sent": 4, "newsflow/acked": 4}, crawl.stderr[-3000:]
        urls = {f"{base}{path}" for path in articles}

        async def read() -> tuple[list, list]:
            raw = await consume_until(kafka_bootstrap, topics["raw"], lambda rs: len(rs) >= 4)
            enriched = await consume_until(
                kafka_bootstrap, topics["enriched"], lambda rs: len(rs) >= 4, timeout=120
            )
            return raw, json_values(enriched)

        raw, enriched = asyncio.run(read())
    assert len(raw) == 4
    assert {r.key.decode() for r in raw} == urls  # keyed by URL
    raw_pages = json_values(raw)
    assert {p["content_type"] for p in raw_pages} == {"text/html"}
    assert all(p["fetched_at"] for p in raw_pages)
    assert len(enriched) == 4
    by_url = {r["url"]: r for r in enriched}
    assert set(by_url) == urls
    for path, page in articles.items():
        record = by_url[f"{base}{path}"]
        assert record["title"] == page.title  # decoded right: UTF-8, Shift_JIS and EUC-JP
        assert page.sentence is not None and nfkc(page.sentence) in record["text"]
        assert record["entities"], record["text"]
