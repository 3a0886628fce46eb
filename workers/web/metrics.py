"""``/metrics``: the worker's counters in the Prometheus text exposition format (0.0.4).

Written by hand (a few lines) so the worker needs no metrics library at run time; the tests
parse the output with ``prometheus_client``'s parser. The same body built with
``prometheus_client`` (a collector over ``PipelineStats`` + ``generate_latest``) costs several
times more per scrape (``python bench/metrics.py``; ``docs/crawl-io.md``), so this stays.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from workers.clean.truncation import LIMITS
from workers.stats import STAGES, PipelineStats

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def escape_label(value: object) -> str:
    """Label value escaping of the text format: backslash, double quote and newline."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_value(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    if float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_: str) -> None:
        self.lines.append(f"# HELP {name} {help_}")
        self.lines.append(f"# TYPE {name} {kind}")

    def sample(self, name: str, value: float, labels: Mapping[str, object] | None = None) -> None:
        if labels:
            inner = ",".join(f'{k}="{escape_label(v)}"' for k, v in labels.items())
            self.lines.append(f"{name}{{{inner}}} {format_value(value)}")
        else:
            self.lines.append(f"{name} {format_value(value)}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def render_metrics(
    stats: PipelineStats,
    *,
    version: str,
    now: float,
    lag: Iterable[Mapping[str, Any]] = (),
    table_sizes: Mapping[str, int] | None = None,
) -> str:
    """All metric families of one worker, as the body of a ``/metrics`` response."""
    w = _Writer()
    w.family("newsflow_build_info", "gauge", "Worker version (always 1).")
    w.sample("newsflow_build_info", 1, {"version": version})
    w.family("newsflow_start_time_seconds", "gauge", "Unix time the worker started.")
    w.sample("newsflow_start_time_seconds", stats.started_at)
    w.family("newsflow_uptime_seconds", "gauge", "Seconds since the worker started.")
    w.sample("newsflow_uptime_seconds", round(now - stats.started_at, 3))

    w.family("newsflow_records_in_total", "counter", "Records a stage took from its topic.")
    for stage in STAGES:
        w.sample("newsflow_records_in_total", stats.records_in[stage], {"stage": stage})
    w.family("newsflow_records_out_total", "counter", "Records a stage passed on.")
    for stage in STAGES:
        w.sample("newsflow_records_out_total", stats.records_out[stage], {"stage": stage})

    w.family("newsflow_deadletters_total", "counter", "Records sent to the dead-letter topic.")
    for (stage, error_class), n in sorted(stats.deadletters_by_stage.items()):
        w.sample("newsflow_deadletters_total", n, {"stage": stage, "error_class": error_class})

    name = "newsflow_truncated_records_total"
    w.family(name, "counter", "Cleaned records whose text a size bound cut, by bound "
             "(the record's truncated field says what and how much).")  # fmt: skip
    for limit in LIMITS:
        w.sample(name, stats.truncated[limit], {"limit": limit})

    rows = sorted(lag, key=lambda r: (r["topic"], r["partition"]))
    gauges = (
        ("lag", "newsflow_consumer_lag_records", "Records not yet read: highwater - position."),
        (
            "commit_lag",
            "newsflow_consumer_commit_lag_records",
            "Records past the committed offset: highwater - committed.",
        ),
        ("highwater", "newsflow_consumer_highwater_offset", "End offset of the partition."),
    )
    for field, name, help_ in gauges:
        w.family(name, "gauge", help_)
        for row in rows:
            if row.get(field) is not None:
                labels = {"topic": row["topic"], "partition": row["partition"]}
                w.sample(name, row[field], labels)

    lat = stats.latencies_s
    name = "newsflow_enrich_latency_seconds"
    w.family(name, "histogram", "Seconds from produce (record timestamp) to enriched.")
    for bound, cumulative in lat.cumulative():
        w.sample(f"{name}_bucket", cumulative, {"le": format_value(bound)})
    w.sample(f"{name}_sum", round(lat.sum, 6))
    w.sample(f"{name}_count", lat.count)

    w.family("newsflow_table_keys", "gauge", "Keys in a table on this worker's partitions.")
    for table, size in sorted((table_sizes or {}).items()):
        w.sample("newsflow_table_keys", size, {"table": table})
    return w.text()
