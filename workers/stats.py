"""In-process pipeline counters that the web stats, ``/metrics`` and the dashboard read.

Plain Python, updated by the agents on each record: a dict increment or a bounded append per
event, nothing more. Everything derived (rates, percentiles, cumulative histogram buckets) is
computed when somebody asks, so the hot path pays only for the increments.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

STAGES = ("clean", "extract", "count")

# Upper bounds (seconds) of the produce -> enriched latency histogram (Prometheus ``le``).
LATENCY_BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
)  # fmt: skip


class Latencies:
    """Produce -> enriched latencies: the last ``maxlen`` values (for percentiles) plus a
    cumulative-over-uptime histogram (for Prometheus, which needs monotonic buckets).

    ``append`` keeps the deque API the extract agent uses; it costs one bisect over 14 bounds.
    """

    def __init__(self, maxlen: int = 10_000, buckets: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        self.recent: deque[float] = deque(maxlen=maxlen)
        self.buckets = buckets
        self.bucket_counts = [0] * (len(buckets) + 1)  # the last one is +Inf
        self.count = 0
        self.sum = 0.0

    def append(self, seconds: float) -> None:
        self.recent.append(seconds)
        self.bucket_counts[bisect_left(self.buckets, seconds)] += 1
        self.count += 1
        self.sum += seconds

    def __len__(self) -> int:
        return len(self.recent)

    def __iter__(self) -> Iterator[float]:
        return iter(self.recent)

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound, observations <= bound) per bucket, ending with (+inf, count)."""
        out, running = [], 0
        for bound, n in zip((*self.buckets, float("inf")), self.bucket_counts, strict=True):
            running += n
            out.append((bound, running))
        return out

    def percentiles(self, qs: tuple[float, ...] = (0.5, 0.9, 0.99)) -> dict[str, float | None]:
        """Nearest-rank percentiles of the recent window, e.g. ``{"p50": 0.12, ...}``."""
        values = sorted(self.recent)
        out: dict[str, float | None] = {}
        for q in qs:
            name = f"p{round(q * 100):d}"
            if not values:
                out[name] = None
                continue
            rank = min(len(values) - 1, max(0, int(q * len(values) + 0.999999) - 1))
            out[name] = round(values[rank], 4)
        return out


@dataclass
class PipelineStats:
    started_at: float = field(default_factory=time.time)
    records_in: Counter[str] = field(default_factory=Counter)
    records_out: Counter[str] = field(default_factory=Counter)
    deadletters: Counter[str] = field(default_factory=Counter)  # by error class
    deadletters_by_stage: Counter[tuple[str, str]] = field(default_factory=Counter)
    recent_deadletters: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=20))
    # cleaned records whose text a size bound cut, by bound (the record's ``truncated`` keys)
    truncated: Counter[str] = field(default_factory=Counter)
    latencies_s: Latencies = field(default_factory=Latencies)
    # (monotonic time, records_in per stage, records_out per stage), sampled once a second by
    # the web module's timer: rates come from differences of these, never from the agents.
    samples: deque[tuple[float, tuple[int, ...], tuple[int, ...]]] = field(
        default_factory=lambda: deque(maxlen=301)
    )

    def record_deadletter(self, letter: dict[str, Any]) -> None:
        self.deadletters[letter["error_class"]] += 1
        self.deadletters_by_stage[(letter["stage"], letter["error_class"])] += 1
        summary = {k: letter[k] for k in ("stage", "reason", "error_class", "source", "time")}
        self.recent_deadletters.appendleft(summary)

    def record_truncated(self, truncated: dict[str, Any] | None) -> None:
        """Count a cleaned record's ``truncated`` field (None: nothing was cut)."""
        if truncated:
            self.truncated.update(truncated.keys())

    def sample(self, now: float | None = None) -> None:
        """Remember the counters now (called by a 1 s timer, not per record)."""
        self.samples.append(
            (
                time.monotonic() if now is None else now,
                tuple(self.records_in[s] for s in STAGES),
                tuple(self.records_out[s] for s in STAGES),
            )
        )

    def rates(self, window_s: float = 10.0) -> dict[str, dict[str, float]]:
        """Records/s in and out per stage over the last ``window_s`` seconds of samples."""
        zero = {s: 0.0 for s in STAGES}
        if len(self.samples) < 2:
            return {"in": dict(zero), "out": dict(zero)}
        t1, in1, out1 = self.samples[-1]
        t0, in0, out0 = self.samples[0]
        for t, i, o in reversed(self.samples):
            t0, in0, out0 = t, i, o
            if t1 - t >= window_s:
                break
        dt = max(t1 - t0, 1e-9)
        return {
            "in": {s: round((in1[k] - in0[k]) / dt, 2) for k, s in enumerate(STAGES)},
            "out": {s: round((out1[k] - out0[k]) / dt, 2) for k, s in enumerate(STAGES)},
        }

    def rate_series(self, points: int = 60) -> dict[str, list[float]]:
        """Per-second output rate of each stage for the last ``points`` samples (oldest first)."""
        samples = list(self.samples)[-(points + 1) :]
        series: dict[str, list[float]] = {s: [] for s in STAGES}
        for (t0, _, o0), (t1, _, o1) in pairwise(samples):
            dt = max(t1 - t0, 1e-9)
            for k, s in enumerate(STAGES):
                series[s].append(round((o1[k] - o0[k]) / dt, 2))
        return series

    def snapshot(self) -> dict[str, Any]:
        return {
            "uptime_s": round(time.time() - self.started_at, 1),
            "started_at": self.started_at,
            "records_in": {s: self.records_in[s] for s in STAGES},
            "records_out": {s: self.records_out[s] for s in STAGES},
            "deadletters": dict(self.deadletters),
            "deadletters_total": sum(self.deadletters.values()),
            "truncated": dict(self.truncated),
            "throughput": self.rates(),
            "throughput_series": self.rate_series(),
            "latency_s": {**self.latencies_s.percentiles(), "samples": len(self.latencies_s)},
        }
