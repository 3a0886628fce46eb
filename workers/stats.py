"""In-process pipeline counters that the web stats, ``/metrics`` and the dashboard read.

Plain Python, updated by the agents on each record: a dict increment per event, nothing more.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

STAGES = ("clean", "extract", "count")


@dataclass
class PipelineStats:
    started_at: float = field(default_factory=time.time)
    records_in: Counter[str] = field(default_factory=Counter)
    records_out: Counter[str] = field(default_factory=Counter)
    deadletters: Counter[str] = field(default_factory=Counter)  # by error class
    recent_deadletters: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=20))
    latencies_s: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))

    def record_deadletter(self, letter: dict[str, Any]) -> None:
        self.deadletters[letter["error_class"]] += 1
        summary = {k: letter[k] for k in ("stage", "reason", "error_class", "source", "time")}
        self.recent_deadletters.appendleft(summary)

    def snapshot(self) -> dict[str, Any]:
        return {
            "uptime_s": round(time.time() - self.started_at, 1),
            "records_in": {s: self.records_in[s] for s in STAGES},
            "records_out": {s: self.records_out[s] for s in STAGES},
            "deadletters": dict(self.deadletters),
            "deadletters_total": sum(self.deadletters.values()),
        }
