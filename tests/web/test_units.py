"""Web stats without a broker: queries, stats derivations, the /metrics text, the page's CSP."""

from __future__ import annotations

import asyncio
import calendar
import re
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from faust.types import TP
from prometheus_client.parser import text_string_to_metric_families

from workers.app import create_app
from workers.batches import acting_for
from workers.count import partition_for
from workers.count.tables import declare_tables
from workers.settings import Settings
from workers.stats import LATENCY_BUCKETS, Latencies, PipelineStats
from workers.web import dashboard, live
from workers.web.live import TableSize, TableSnapshot
from workers.web.metrics import escape_label, render_metrics
from workers.web.queries import entity_detail, trending

NOW = calendar.timegm((2025, 3, 14, 15, 30, 0))  # 2025-03-14T15:30Z
H0, H1, H2 = "2025-03-14T15", "2025-03-14T14", "2025-03-14T13"


def value(hours: dict[str, int]) -> dict:
    return {"total": sum(hours.values()), "hours": hours, "applied": {}}


def test_trending_ranks_by_growth_and_skips_falling() -> None:
    items = [
        ("PERSON:a", value({H0: 10, H1: 2})),  # +8
        ("PERSON:b", value({H0: 3})),  # +3
        ("LOCATION:c", value({H0: 1, H1: 5})),  # falling: not trending
        ("ORGANIZATION:d", value({H0: 50, H1: 30, H2: 7})),  # +20
    ]
    rows = trending(items, now=NOW)
    assert [r["key"] for r in rows] == ["ORGANIZATION:d", "PERSON:a", "PERSON:b"]
    d = rows[0]
    assert (d["current"], d["previous"], d["growth"]) == (50, 30, 20)
    assert len(d["series"]) == 24 and d["series"][-3:] == [7, 30, 50]
    assert [r["key"] for r in trending(items, now=NOW, entity_type="person")] == [
        "PERSON:a",
        "PERSON:b",
    ]


def test_entity_detail_has_24_hours_oldest_first() -> None:
    detail = entity_detail("PERSON:植田和男", value({H0: 4, H2: 1, "2025-03-01T00": 9}), now=NOW)
    assert detail is not None
    assert (detail["type"], detail["name"], detail["total"]) == ("PERSON", "植田和男", 14)
    assert [p["count"] for p in detail["last_hours"][-3:]] == [1, 0, 4]
    assert detail["last_hours"][-1]["hour"] == H0
    assert detail["hours"]["2025-03-01T00"] == 9
    assert entity_detail("PERSON:x", None) is None


def test_latencies_percentiles_and_cumulative_buckets() -> None:
    lat = Latencies(maxlen=100)
    for ms in range(1, 101):
        lat.append(ms / 1000)
    p = lat.percentiles()
    assert (p["p50"], p["p90"], p["p99"]) == (0.05, 0.09, 0.099)
    cumulative = dict(lat.cumulative())
    assert cumulative[0.01] == 10 and cumulative[0.05] == 50 and cumulative[0.1] == 100
    assert cumulative[float("inf")] == 100 == lat.count
    counts = [n for _, n in lat.cumulative()]
    assert counts == sorted(counts)
    assert len(counts) == len(LATENCY_BUCKETS) + 1


def test_rates_come_from_samples_not_from_the_agents() -> None:
    stats = PipelineStats()
    stats.sample(now=100.0)
    stats.records_in["clean"] += 50
    stats.records_out["clean"] += 40
    stats.sample(now=110.0)
    rates = stats.rates(window_s=10)
    assert rates["in"]["clean"] == 5.0 and rates["out"]["clean"] == 4.0
    assert rates["out"]["count"] == 0.0
    assert stats.rate_series()["clean"] == [4.0]


def test_metrics_parse_and_escape_label_values() -> None:
    stats = PipelineStats()
    stats.records_in["clean"] = 7
    stats.records_out["clean"] = 5
    for reason in ("invalid_json", "invalid_json"):
        stats.record_deadletter(
            {"stage": "validate", "reason": "x", "error_class": reason, "source": {}, "time": 0}
        )
    stats.latencies_s.append(0.2)
    evil = 'we"ird\\topic\n<script>'
    text = render_metrics(
        stats,
        version="0.1.0",
        now=stats.started_at + 5,
        lag=[{"topic": evil, "partition": 0, "highwater": 9, "lag": 3, "commit_lag": 4}],
        table_sizes={"entity-mentions": 12},
    )
    families = {f.name: f for f in text_string_to_metric_families(text)}
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in families.values()
        for s in f.samples
    }
    assert families["newsflow_records_in"].type == "counter"
    assert samples[("newsflow_records_in_total", (("stage", "clean"),))] == 7
    assert samples[("newsflow_records_out_total", (("stage", "clean"),))] == 5
    dl = ("newsflow_deadletters_total", (("error_class", "invalid_json"), ("stage", "validate")))
    assert samples[dl] == 2
    assert samples[("newsflow_consumer_lag_records", (("partition", "0"), ("topic", evil)))] == 3
    assert families["newsflow_enrich_latency_seconds"].type == "histogram"
    assert samples[("newsflow_enrich_latency_seconds_bucket", (("le", "0.25"),))] == 1
    assert samples[("newsflow_enrich_latency_seconds_bucket", (("le", "0.1"),))] == 0
    assert samples[("newsflow_enrich_latency_seconds_count", ())] == 1
    assert samples[("newsflow_table_keys", (("table", "entity-mentions"),))] == 12
    assert samples[("newsflow_uptime_seconds", ())] == 5
    assert escape_label(evil) == 'we\\"ird\\\\topic\\n<script>'


def test_truncated_records_are_counted_by_bound_in_the_metrics() -> None:
    stats = PipelineStats()
    stats.record_truncated(None)
    stats.record_truncated({"line_chars": {"lines": 2, "original": 90_000, "kept": 40_000}})
    stats.record_truncated({"page_chars": {"original": 3, "kept": 2}, "line_chars": {}})
    assert stats.truncated == {"line_chars": 2, "page_chars": 1}
    assert stats.snapshot()["truncated"] == {"line_chars": 2, "page_chars": 1}
    text = render_metrics(stats, version="0.1.0", now=stats.started_at + 1)
    family = next(
        f for f in text_string_to_metric_families(text) if f.name == "newsflow_truncated_records"
    )
    assert family.type == "counter"
    got = {s.labels["limit"]: s.value for s in family.samples}
    assert got == {"page_bytes": 0, "page_chars": 1, "lines": 0, "line_chars": 2, "elements": 0}


def test_dashboard_inserts_text_only_and_its_csp_allows_only_its_own_blocks() -> None:
    page = dashboard.load()
    html = page.html
    script = re.search(r"<script>(.*?)</script>", html, re.S)
    assert script is not None
    code = script.group(1)
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in code
    csp = page.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert dashboard._sha256(code) in csp
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    assert 'style="' not in html  # inline style attributes would be blocked by that CSP


@pytest.mark.parametrize("window", ["2x", "0h", "h"])
def test_bad_window_is_a_query_error(window: str) -> None:
    from workers.web.queries import QueryError, window_hours

    with pytest.raises(QueryError):
        window_hours(window)


def test_top_table_aligns_wide_names() -> None:
    from workers.web.top import render, width

    body = {
        "window": "all",
        "entities": [
            {"type": "PERSON", "name": "植田和男", "count": 1200},
            {"type": "ORGANIZATION", "name": "<b>ACME</b>", "count": 7},
        ],
        "partitions": [0, 1],
        "partitions_total": 4,
        "workers": [{"url": "http://a", "ok": True}, {"url": "http://b", "ok": False}],
    }
    lines = render(body).splitlines()
    assert width(lines[1]) == width(lines[2]) == width(lines[0])
    assert lines[1].endswith("1,200") and "植田和男" in lines[1]
    assert "partitions 0, 1 of 4" in lines[-1] and "NOT ANSWERING: http://b" in lines[-1]


class _Event:
    """Just what the rocksdb store reads of the current event: its partition."""

    def __init__(self, partition: int) -> None:
        self.message = SimpleNamespace(partition=partition)


class _KeysOnly(dict[str, Any]):
    """A table whose values must not be read: ``items`` fails, iterating the keys works."""

    scans = 0

    def items(self) -> Any:
        raise AssertionError("size() decoded the values")

    def __iter__(self) -> Iterator[str]:
        self.scans += 1
        return super().__iter__()


def test_table_size_counts_owned_keys_without_reading_values() -> None:
    keys = [f"PERSON:p{i}" for i in range(40)]
    table = _KeysOnly({k: value({H0: 1}) for k in keys})
    owned = [0, 1]
    snapshot = TableSnapshot(table, lambda: owned, 4, ttl=60.0)  # type: ignore[arg-type]
    expected = sum(1 for k in keys if partition_for(k, 4) in (0, 1))
    assert 0 < expected < len(keys)
    assert snapshot.size() == expected
    table["PERSON:new"] = value({H0: 1})
    assert snapshot.size() == expected and table.scans == 1  # within the ttl: no new scan
    owned = [0, 1, 2, 3]  # a rebalance: counted again at once
    assert snapshot.size() == len(keys) + 1 and table.scans == 2


def test_table_size_is_the_length_of_a_fresh_snapshot() -> None:
    table = {f"LOCATION:l{i}": value({H0: i + 1}) for i in range(10)}
    snapshot = TableSnapshot(table, lambda: [0, 1, 2, 3], 4, ttl=60.0)  # type: ignore[arg-type]
    assert snapshot.size() == 10
    table["LOCATION:new"] = value({H0: 1})
    snapshot._at = -1e18  # the snapshot is due: items() scans again, and size() follows it
    assert len(snapshot.items()) == 11 and snapshot.size() == 11


def test_table_size_of_a_rocksdb_table_counts_the_owned_partitions(tmp_path: Path) -> None:
    settings = Settings(app_id="size-test", data_dir=str(tmp_path), store="rocksdb://")
    app = create_app(settings)
    table = declare_tables(app, settings).entity_mentions
    keys = [f"PERSON:人{i}" for i in range(60)]
    for key in keys:  # each key in the rocksdb partition the count stage writes it to
        with acting_for(_Event(partition_for(key, 4))):  # type: ignore[arg-type]
            table.data[key] = value({H0: 1})
    changelog = table.changelog_topic.get_topic_name()
    owned = [1, 3]
    actives = {TP(changelog, p) for p in owned}
    app.assignor.assigned_actives = lambda: actives  # type: ignore[method-assign]
    snapshot = TableSnapshot(table, lambda: owned, 4, ttl=60.0)
    expected = sorted(k for k in keys if partition_for(k, 4) in owned)
    assert 0 < len(expected) < len(keys)
    assert snapshot.size() == len(expected)
    snapshot._at = -1e18
    assert sorted(k for k, _ in snapshot.items()) == expected  # the same keys as the values scan


class _SlowKeys(_KeysOnly):
    """A table whose key scan takes at least 20 ms."""

    def __iter__(self) -> Iterator[str]:
        time.sleep(0.02)
        return super().__iter__()


def test_a_slow_scan_is_spaced_by_its_own_cost_not_only_the_ttl() -> None:
    """Scans run in the event loop: one that took 20 ms waits >= 100 x 20 ms, even at ttl 0."""
    table = _SlowKeys({f"PERSON:p{i}": value({H0: 1}) for i in range(5)})
    snapshot = TableSnapshot(table, lambda: [0, 1, 2, 3], 4, ttl=0.0)  # type: ignore[arg-type]
    assert snapshot.size() == 5 and table.scans == 1
    table["PERSON:new"] = value({H0: 1})
    assert snapshot.size() == 5 and table.scans == 1  # not due yet: 2 s after a 20 ms scan
    snapshot.sizes._at -= 60.0  # much later
    assert snapshot.size() == 6 and table.scans == 2
    sizes = TableSize(table, ttl=0.0)  # type: ignore[arg-type]
    assert sizes.size() == 6 and table.scans == 3
    table["PERSON:newer"] = value({H0: 1})
    assert sizes.size() == 6 and table.scans == 3


def _rocksdb_table(tmp_path: Path, owned: list[int], n: int = 60) -> tuple[Any, list[str]]:
    """The entity table on rocksdb with ``n`` keys, each in the partition the count stage
    routes it to, and this worker assigned ``owned``."""
    settings = Settings(app_id="size-test", data_dir=str(tmp_path), store="rocksdb://")
    app = create_app(settings)
    table = declare_tables(app, settings).entity_mentions
    keys = [f"PERSON:人{i}" for i in range(n)]
    for key in keys:
        with acting_for(_Event(partition_for(key, 4))):  # type: ignore[arg-type]
            table.data[key] = value({H0: 1})
    changelog = table.changelog_topic.get_topic_name()
    actives = {TP(changelog, p) for p in owned}
    app.assignor.assigned_actives = lambda: actives  # type: ignore[method-assign]
    return table, [k for k in keys if partition_for(k, 4) in owned]


async def test_the_web_counts_a_rocksdb_table_a_chunk_per_loop_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big table's count must not hold up the records: other tasks run between chunks."""
    owned = [0, 1, 2]
    table, expected = _rocksdb_table(tmp_path, owned)
    monkeypatch.setattr(live, "COUNT_CHUNK", 10)
    steps = 0

    async def other_work() -> None:
        nonlocal steps
        while True:
            steps += 1
            await asyncio.sleep(0)

    ticker = asyncio.ensure_future(other_work())
    await asyncio.sleep(0)
    try:
        before = steps
        snapshot = TableSnapshot(table, lambda: owned, 4, ttl=60.0)
        assert await snapshot.asize() == len(expected) > 30
        assert steps - before >= len(expected) // 10  # the loop ran once per chunk at least
        sizes = TableSize(table, ttl=60.0)
        assert await sizes.asize() == len(expected)
        assert snapshot.size() == sizes.size() == len(expected)  # the same figure as in one go
    finally:
        ticker.cancel()


async def test_a_count_cut_short_by_a_rebalance_keeps_the_last_figure(tmp_path: Path) -> None:
    table, expected = _rocksdb_table(tmp_path, [0, 1, 2, 3])
    sizes = TableSize(table, ttl=0.0)
    assert await sizes.asize() == len(expected)
    store = table.data
    real = store._iterkeys

    def changing() -> Iterator[bytes]:
        yield from list(real())[:5]
        raise RuntimeError("dictionary changed size during iteration")

    store._iterkeys = changing
    sizes._cost = 0.0
    assert await sizes.asize() == len(expected)  # no error, the last count stands
    store._iterkeys = real
    assert await sizes.asize() == len(expected)
