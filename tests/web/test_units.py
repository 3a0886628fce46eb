"""Web stats without a broker: queries, stats derivations, the /metrics text, the page's CSP."""

from __future__ import annotations

import calendar
import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from workers.stats import LATENCY_BUCKETS, Latencies, PipelineStats
from workers.web import dashboard
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
