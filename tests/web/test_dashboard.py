"""The dashboard in headless Chromium and /metrics, against a worker on the real Kafka broker."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers.worker import WorkerProcess
from tests.web.browser import browser_page, cjk_glyphs, shows_japanese
from tests.web.live import LiveWorker, require_browser
from workers.extract.rules import MAX_NAME_CHARS


@pytest.fixture(scope="module")
def live(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveWorker]:
    worker = WorkerProcess(kafka_bootstrap, tmp_path_factory.mktemp("web")).start()
    lw = LiveWorker(worker)
    try:
        lw.produce(good=12, bad=2, tag="first")
        lw.wait_processed()
        yield lw
    finally:
        worker.stop()


def metric_text(page: Any, name: str) -> str:
    return str(page.text_content(f'[data-metric="{name}"]')).replace(",", "")


def test_dashboard_shows_live_counts_that_follow_new_pages(
    live: LiveWorker, tmp_path: Path
) -> None:
    require_browser()
    with browser_page() as page:
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(live.url("/"))
        page.wait_for_selector('#status[data-state="live"]', timeout=20_000)
        assert metric_text(page, "clean-in-total") == str(live.good + live.bad)
        assert metric_text(page, "count-out-total") == str(live.good)
        first_update = page.text_content("#updated")

        live.produce(good=15, bad=1, tag="second")
        # Stale numbers fail here: the page must reach the new totals by itself (no reload).
        page.wait_for_function(
            """([sel, want]) => {
                const e = document.querySelector(sel);
                return e && e.textContent.replace(/,/g, "") === want;
            }""",
            arg=['[data-metric="count-out-total"]', str(live.good)],
            timeout=120_000,
        )
        assert metric_text(page, "clean-in-total") == str(live.good + live.bad)
        page.wait_for_function("() => window.__newsflow.polls >= 3", timeout=20_000)
        assert page.get_attribute("#status", "data-state") == "live"
        assert not page.is_visible("#error")
        assert page.evaluate("window.__newsflow.errors") == 0
        assert page.text_content("#updated") != first_update
        assert not errors

        # What the tables show is what the API says.
        api_top = live.worker.get("/api/entities/top?limit=12")["entities"]
        page.wait_for_function(
            "(n) => document.querySelectorAll('#top tr[data-key]').length === n",
            arg=len(api_top),
            timeout=10_000,
        )
        first = page.query_selector("#top tr[data-key]")
        assert first is not None
        assert first.get_attribute("data-key") == api_top[0]["key"]
        assert page.text_content("#dead-total") == str(live.bad)
        assert page.query_selector_all("#deadletters tr td.reason")
        assert page.query_selector_all("#trending tr[data-key] svg path.line")
        assert page.query_selector_all("#bytype .card")
        shot = tmp_path / "dashboard.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 20_000
        # The entity names render as Japanese, not as boxes (scripts/test installs a CJK font).
        names = "#top"  # every name in the top table: enough distinct kana and kanji
        text, glyphs = cjk_glyphs(page, names)
        assert shows_japanese(page, names), (
            f"Japanese renders as boxes (no CJK font? apt-get install fonts-ipafont-gothic): "
            f"{len(set(glyphs.values()))} distinct images for {len(glyphs)} characters of {text!r}"
        )


def test_metrics_parse_and_match_the_records_produced(live: LiveWorker) -> None:
    stats = live.wait_processed()
    status, body, headers = live.request("/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value

    def get(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    total = live.good + live.bad
    assert get("newsflow_records_in_total", stage="clean") == total
    assert get("newsflow_records_out_total", stage="clean") == live.good
    assert get("newsflow_records_out_total", stage="extract") == live.good
    assert get("newsflow_records_out_total", stage="count") == live.good
    assert get("newsflow_deadletters_total", stage="validate", error_class="invalid_json") == (
        live.bad
    )
    assert get("newsflow_enrich_latency_seconds_count") == live.good
    assert get("newsflow_enrich_latency_seconds_bucket", le="+Inf") == live.good
    assert get("newsflow_build_info", version=stats["version"]) == 1
    raw = live.worker.topics["raw"]
    name = "newsflow_consumer_highwater_offset"
    highwaters = [v for (n, lab), v in samples.items() if n == name and ("topic", raw) in lab]
    assert sum(highwaters) == total  # every raw record is on the partitions this worker owns
    top = live.worker.get("/api/entities/top?limit=1000")["entities"]
    assert get("newsflow_table_keys", table="entity-mentions") == len(top)


def test_web_server_is_read_only_and_keeps_faust_table_views_off(live: LiveWorker) -> None:
    for path in ("/api/stats", "/api/entities/top", "/metrics", "/"):
        assert live.request(path, method="POST")[0] == 405
        assert live.request(path, method="DELETE")[0] == 405
    top = live.worker.get("/api/entities/top?limit=1")["entities"][0]
    assert live.request("/table/entity-mentions/")[0] == 404
    assert live.request(f"/table/entity-mentions/{quote(top['key'], safe='')}/")[0] == 404
    status, _, headers = live.request("/")
    assert status == 200 and "script-src 'sha256-" in headers["Content-Security-Policy"]


def test_entity_lookup_total_and_history(live: LiveWorker) -> None:
    top = live.worker.get("/api/entities/top?limit=1")["entities"][0]
    detail = live.worker.get("/api/entities/" + quote(top["key"], safe=""))
    assert detail["total"] == top["count"]
    assert sum(p["count"] for p in detail["last_hours"]) == top["count"]
    assert len(detail["last_hours"]) == 24
    status, body, _ = live.request("/api/entities/" + quote("PERSON:誰でもない人", safe=""))
    assert status == 404 and b"no such entity" in body
    assert live.request("/api/entities/top?window=2x")[0] == 400


def _raw_get(port: int, path: str) -> tuple[int, bytes]:
    """GET over a plain socket (urllib may fail on a reset while the server refuses a long
    request line): the status and body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
            if b"\r\n\r\n" in data and len(data) > 2000:
                break
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_any_entity_key_answers_the_entity_404_or_414_never_a_traceback(
    live: LiveWorker,
) -> None:
    """The issue's 20,000-character key got 400 and a LineTooLong traceback in the log."""
    log = live.worker.log_file
    before = len(log.read_bytes())
    key = quote("LOCATION:" + "岸田" * 10_000, safe="")
    status, body = _raw_get(live.worker.web_port, "/api/entities/" + key)
    assert status == 414
    assert orjson.loads(body) == {"error": "request line too long (over 8190 bytes)"}
    # the longest key a table can hold (a name at the entity-length bound) reaches the view
    longest = quote("ORGANIZATION:" + "岸" * MAX_NAME_CHARS, safe="")
    status, body, _ = live.request("/api/entities/" + longest)
    assert status == 404 and b"no such entity" in body
    top = live.worker.wait_for("/api/entities/top?limit=1", lambda t: t["entities"])
    row = top["entities"][0]  # a key the table holds answers as before
    assert live.worker.get("/api/entities/" + quote(row["key"], safe=""))["total"] == row["count"]
    deadline = time.monotonic() + 10
    while True:
        new = log.read_bytes()[before:].decode(errors="replace")
        refused = [line for line in new.splitlines() if "refused a request" in line]
        if refused or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(refused) == 1 and "414" in refused[0]
    assert "Traceback" not in new and "LineTooLong" not in new


def test_newsflow_top_prints_the_api_table(live: LiveWorker) -> None:
    import subprocess
    import sys

    from workers.clients.top import width

    api = live.worker.get("/api/entities/top?limit=5&type=LOCATION")["entities"]
    out = subprocess.run(
        [sys.executable, "-m", "workers.cli", "top", "--url", live.url(""), "--limit", "5",
         "--type", "LOCATION"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout.splitlines()  # fmt: skip
    assert out[0].split() == ["#", "TYPE", "ENTITY", "MENTIONS"]
    rows = out[1 : 1 + len(api)]
    assert [r.split()[2] for r in rows] == [e["name"] for e in api]
    assert [int(r.split()[3].replace(",", "")) for r in rows] == [e["count"] for e in api]
    assert len({width(r) for r in rows}) == 1  # columns line up, CJK names included
    assert "partitions 0, 1 of 2" in out[-1]
