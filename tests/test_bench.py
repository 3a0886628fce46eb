"""The benchmark's corpus and a tiny ``newsflow bench`` run: rows present, numbers sane.

No timing assertions: speed figures come from the bench command (docs/benchmark.md).
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workers.bench.corpus import NER_DEV, body_paragraphs, generate_pages
from workers.clean import clean_page

ROOT = Path(__file__).resolve().parents[1]
needs_ner_dev = pytest.mark.skipif(not NER_DEV.exists(), reason="../shared/data/ner-dev missing")


@needs_ner_dev
def test_corpus_is_deterministic_and_prefix_stable() -> None:
    a = list(generate_pages(5, seed=3, kind="mixed"))
    assert a == list(generate_pages(5, seed=3, kind="mixed"))
    assert a[:3] == list(generate_pages(3, seed=3, kind="mixed"))
    assert a != list(generate_pages(5, seed=4, kind="mixed"))
    assert len({p["id"] for p in a}) == 5
    assert [p["content_type"] for p in a[:2]] == ["text/plain", "text/html"]


@needs_ner_dev
@pytest.mark.parametrize("kind", ["text", "html"])
def test_corpus_pages_have_boilerplate_that_the_cleaner_removes(kind: str) -> None:
    for i, page in enumerate(generate_pages(10, seed=5, kind=kind)):  # type: ignore[arg-type]
        body = body_paragraphs(i, seed=5)
        assert len(page["body"]) > len(body) + 200  # navigation, related links, ranking
        cleaned = clean_page(page["body"], page["content_type"])
        assert cleaned.text.replace("\n", "") == body.replace("\n", "")
        assert cleaned.published_at and cleaned.published_at.startswith(("2024", "2025"))


#: a bench run's topics: ``<name>.raw``, ``<name>-mentions``, ``newsflow-<name>-…-changelog``
BENCH_TOPIC = re.compile(r"^(newsflow-)?b[0-9a-f]{8}[.-]")


def bench_topics(bootstrap: str) -> set[str]:
    from aiokafka.admin import AIOKafkaAdminClient

    async def listing() -> set[str]:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            return {t for t in await admin.list_topics() if BENCH_TOPIC.match(t)}
        finally:
            await admin.close()

    return asyncio.run(listing())


@needs_ner_dev
def test_quick_bench_prints_every_row(kafka_bootstrap: str, tmp_path: Path) -> None:
    cmd = [
        sys.executable, "-m", "workers.cli", "bench", "--quick", "--pages", "30",
        "--offline-pages", "8", "--latency-s", "1", "--latency-rate", "7",
        "--bootstrap", kafka_bootstrap,
        "--workdir", str(tmp_path / "wd"), "--save", str(tmp_path / "table.md"),
    ]  # fmt: skip
    before = bench_topics(kafka_bootstrap)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=420, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    # its topics are deleted from a broker it did not start (both runs' deployments)
    assert out.stderr.count("deleted this run's") == 2
    deadline = time.monotonic() + 15  # deletion reaches the broker's metadata shortly after
    while not bench_topics(kafka_bootstrap) <= before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert bench_topics(kafka_bootstrap) <= before
    table = out.stdout
    assert (tmp_path / "table.md").read_text(encoding="utf-8").strip() == table.strip()
    assert "[bench" in out.stderr  # progress is visible while it runs
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 8 and cells[1].replace(",", "").isdigit():
            rows[cells[0]] = cells
    names = [
        "limit: bare Sudachi (mode C, one tokenizer)", "offline clean", "offline extract",
        "offline clean+extract", "end to end, 1 worker (taskset -c 0)",
        "end to end, 2 workers (cores 0, 1)",
    ]  # fmt: skip
    assert list(rows) == names
    assert rows[names[0]][4] == "1.00"
    for name in names:
        pages, pages_s, chars_s = (float(rows[name][i].replace(",", "")) for i in (1, 2, 3))
        assert pages > 0 and pages_s > 0 and chars_s > pages_s
    assert int(rows[names[4]][1].replace(",", "")) == 30
    # a fixed latency rate (--latency-rate) is used and said; at least 20 pages are timed
    assert re.search(r"latency produce → enriched at 7\.0 pages/s \(fixed\), 20 pages", table)
    lat = re.search(r"p50 (\d+) ms / p95 (\d+) ms / p99 (\d+) ms", table)
    assert lat and 0 <= int(lat[1]) <= int(lat[2]) <= int(lat[3])
    # CPU per page draining and paced (the worker process's share in brackets), and the load
    cpu = re.search(
        r"1 worker CPU per page: .*\| ([\d.]+) ms \(([\d.]+)\) / ([\d.]+) ms \(([\d.]+)\); (\d+) %",
        table,
    )
    assert cpu, table
    drained, drained_main, paced, paced_main = (float(cpu[i]) for i in range(1, 5))
    assert 0 < drained_main < drained and 0 < paced_main < paced and int(cpu[5]) > 0
    rss = re.search(r"1 worker RSS: start → after.*\| (\d+) MB → (\d+) MB", table)
    assert rss and int(rss[1]) > 50 and 50 < int(rss[2]) < 4000
    assert re.search(r"restart → processing again .*\| \d+\.\d s", table)
    assert re.search(r"2 workers: throughput ÷ 1 worker's \| \d+\.\d+×", table)
