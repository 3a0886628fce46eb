"""Cost of one ``/metrics`` body: the hand-written text of ``workers/web/metrics.py`` against the
same families built with ``prometheus_client`` (a custom collector over ``PipelineStats``, the
way a library-based exporter would read the counters without touching the agents' hot path,
then ``generate_latest``).

The stats look like a busy worker's: every stage counted, five dead-letter classes, lag rows
for 4 topics x 4 partitions, a filled latency histogram, three tables. Each side renders the
body 2,000 times, best of 5 runs; the parse check confirms both say the same.

Usage (repo root, ``pip install -e '.[test]'``):  python bench/metrics.py
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workers.stats import STAGES, PipelineStats
from workers.web.metrics import format_value, render_metrics


def busy_stats() -> tuple[PipelineStats, list[dict[str, Any]], dict[str, int]]:
    stats = PipelineStats()
    for stage in STAGES:
        stats.records_in[stage] = 123_456
        stats.records_out[stage] = 123_000
    classes = ("invalid_json", "invalid_record", "timeout", "too_large", "stage_error")
    for i, error_class in enumerate(classes):
        stats.deadletters_by_stage[("validate", error_class)] = i + 3
    rng = random.Random(7)
    for _ in range(5000):
        stats.latencies_s.append(rng.random() * 3)
    topics = ("articles.raw", "articles.cleaned", "articles.enriched", "newsflow-mentions")
    lag = [
        {"topic": t, "partition": p, "highwater": 1000 + p, "lag": p, "commit_lag": p + 1}
        for t in topics
        for p in range(4)
    ]
    return stats, lag, {"entity-mentions": 12_345, "type-mentions": 3, "article-state": 4_567}


def client_families(
    stats: PipelineStats, version: str, now: float, lag: list[dict[str, Any]], tables: dict
) -> Iterator[Metric]:
    """The families of ``render_metrics``, built with prometheus_client."""
    info = GaugeMetricFamily(
        "newsflow_build_info", "Worker version (always 1).", labels=["version"]
    )
    info.add_metric([version], 1)
    yield info
    yield GaugeMetricFamily(
        "newsflow_start_time_seconds", "Unix time the worker started.", value=stats.started_at
    )
    yield GaugeMetricFamily(
        "newsflow_uptime_seconds", "Seconds since the worker started.",
        value=round(now - stats.started_at, 3),
    )  # fmt: skip
    for name, counts, help_ in (
        ("newsflow_records_in", stats.records_in, "Records a stage took from its topic."),
        ("newsflow_records_out", stats.records_out, "Records a stage passed on."),
    ):
        counter = CounterMetricFamily(name, help_, labels=["stage"])
        for stage in STAGES:
            counter.add_metric([stage], counts[stage])
        yield counter
    dead = CounterMetricFamily(
        "newsflow_deadletters", "Records sent to the dead-letter topic.",
        labels=["stage", "error_class"],
    )  # fmt: skip
    for (stage, error_class), n in sorted(stats.deadletters_by_stage.items()):
        dead.add_metric([stage, error_class], n)
    yield dead
    rows = sorted(lag, key=lambda r: (r["topic"], r["partition"]))
    for field, name in (
        ("lag", "newsflow_consumer_lag_records"),
        ("commit_lag", "newsflow_consumer_commit_lag_records"),
        ("highwater", "newsflow_consumer_highwater_offset"),
    ):
        gauge = GaugeMetricFamily(name, field, labels=["topic", "partition"])
        for row in rows:
            gauge.add_metric([row["topic"], str(row["partition"])], row[field])
        yield gauge
    lat = stats.latencies_s
    hist = HistogramMetricFamily("newsflow_enrich_latency_seconds", "Produce to enriched.")
    buckets = [(format_value(bound), n) for bound, n in lat.cumulative()]
    hist.add_metric([], buckets, round(lat.sum, 6))
    yield hist
    sizes = GaugeMetricFamily("newsflow_table_keys", "Keys in a table.", labels=["table"])
    for table, n in sorted(tables.items()):
        sizes.add_metric([table], n)
    yield sizes


class _Once:
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> list[Metric]:
        return self.families


def best_us(fn: Callable[[], bytes], n: int = 2000, runs: int = 5) -> float:
    fn()
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best * 1e6


def main() -> int:
    stats, lag, tables = busy_stats()

    def hand() -> bytes:
        return render_metrics(
            stats, version="0.1.0", now=time.time(), lag=lag, table_sizes=tables
        ).encode()

    def library() -> bytes:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Once(list(client_families(stats, "0.1.0", time.time(), lag, tables))))
        return generate_latest(registry)

    def samples(body: bytes) -> set[tuple[str, tuple[tuple[str, str], ...], float]]:
        out = set()
        for family in text_string_to_metric_families(body.decode()):
            for s in family.samples:
                if "uptime" not in s.name:
                    out.add((s.name, tuple(sorted(s.labels.items())), s.value))
        return out

    assert samples(hand()) == samples(library()), "the two bodies differ"
    print("| /metrics body | µs per scrape (best of 5 x 2000) | bytes |")
    print("|---|---:|---:|")
    for name, fn in (
        ("hand-written (workers/web/metrics.py)", hand),
        ("prometheus_client", library),
    ):
        print(f"| {name} | {best_us(fn):.0f} | {len(fn())} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
