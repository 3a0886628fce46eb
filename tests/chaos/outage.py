"""A worker's log lines and CPU seconds while the broker is away.

    python -m tests.chaos outage --seconds 20              # as the worker runs by default
    python -m tests.chaos outage --seconds 20 --unbounded  # without the back-off and the filter

One worker on its own broker, fed pages at 10/s so it has records in flight when the broker
stops (SIGTERM, a clean shutdown). Measured over the stop: lines and bytes the worker logged,
CPU seconds of its process group (the worker and its stage children), the most frequent
messages; then how long after the broker's start the worker writes output again.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.chaos.inputs import planned
from tests.chaos.probe import Probe
from tests.chaos.runner import Feeder
from tests.chaos.schedule import Phase
from tests.helpers.kafka import create_topic
from tests.helpers.worker import WorkerProcess
from workers.bench.corpus import generate_pages
from workers.brokers.kafka import KafkaBroker
from workers.runtime import kafka_backoff

#: Environment that turns the reconnect back-off and the outage log filter off (the "before").
UNBOUNDED_ENV = {"NEWSFLOW_RECONNECT_BACKOFF_MAX_MS": "0", "NEWSFLOW_BROKER_OUTAGE_LOG_S": "0"}


@dataclass
class OutageFigures:
    seconds: float
    lines: int
    bytes: int
    cpu_s: float
    top: list[tuple[int, str]] = field(default_factory=list)
    outage_lines: list[str] = field(default_factory=list)  # the newsflow.broker lines
    recovery_s: float | None = None
    broker_start_s: float = 0.0
    lines_after: int = 0
    fed: int = 0

    def table(self) -> str:
        rec = f"{self.recovery_s:.1f} s" if self.recovery_s is not None else "no output"
        rows = [
            ("broker away", f"{self.seconds:.1f} s"),
            ("worker log lines while away", str(self.lines)),
            ("worker log bytes while away", f"{self.bytes:,}"),
            ("worker CPU seconds while away (process group)", f"{self.cpu_s:.2f}"),
            ("broker start (JVM to a served round trip)", f"{self.broker_start_s:.1f} s"),
            ("worker output again after the broker's start", rec),
            ("log lines in the 15 s after the start", str(self.lines_after)),
            ("records fed to the raw topic (10/s)", str(self.fed)),
        ]
        width = max(len(k) for k, _ in rows)
        out = [f"  {k:<{width}}  {v}" for k, v in rows]
        out.append("  most frequent lines while away:")
        out += [f"    {n:>7} {msg[:150]}" for n, msg in self.top]
        if self.outage_lines:
            out.append("  outage lines:")
            out += [f"    {line[:200]}" for line in self.outage_lines]
        return "\n".join(out)


def group_cpu_s(pgid: int) -> float:
    """CPU seconds (user + system) of every live process in process group ``pgid``."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp, ...
            total += int(fields[11]) + int(fields[12])
    return total / tick


def _template(line: str) -> str:
    """A log line without its timestamp, pid and numbers: lines of one kind count together."""
    line = re.sub(r"^\[[^\]]*\] \[\d+\] ", "", line)
    return re.sub(r"\d+", "N", line)


def measure(broker: KafkaBroker, work: Path, seconds: float, env: dict[str, str]) -> OutageFigures:
    """Stop ``broker`` for ``seconds`` under a fed worker; the broker runs again afterwards."""
    worker = WorkerProcess(broker.bootstrap, work, partitions=4,
                           extra_env={"NEWSFLOW_LOG_LEVEL": "info", **env})  # fmt: skip
    raw = worker.topics["raw"]
    pages = [planned(p, "page") for p in generate_pages(3000, seed=3, kind="mixed")]
    asyncio.run(create_topic(broker.bootstrap, raw, 4))
    probe = Probe(broker.bootstrap)
    feeder = Feeder(broker.bootstrap, raw, pages, (Phase(len(pages), 10.0),))
    worker.start()
    kafka_backoff.install()  # the feeder's producer must not spin through the stop either
    try:
        feeder.start()
        deadline = time.monotonic() + 120
        while (probe.size(worker.topics["enriched"]) or 0) < 50:
            if time.monotonic() > deadline:
                raise AssertionError(f"the worker wrote no output:\n{worker.tail_log()}")
            time.sleep(0.5)
        assert worker.proc is not None
        before = probe.size(worker.topics["enriched"])
        log0, cpu0 = worker.log_file.stat().st_size, group_cpu_s(worker.proc.pid)
        t0 = time.monotonic()
        broker.stop()
        time.sleep(max(0.0, seconds - (time.monotonic() - t0)))
        away = time.monotonic() - t0
        log1, cpu1 = worker.log_file.stat().st_size, group_cpu_s(worker.proc.pid)
        with open(worker.log_file, "rb") as f:
            f.seek(log0)
            text = f.read(log1 - log0).decode("utf-8", "replace")
        started = time.monotonic()
        broker.start()
        ready = time.monotonic() - started
        recovery = None
        while time.monotonic() - started < 60:
            size = probe.size(worker.topics["enriched"], timeout=2)
            if size is not None and before is not None and size > before:
                recovery = time.monotonic() - started
                break
            time.sleep(0.2)
        time.sleep(max(0.0, started + 15 - time.monotonic()))
        log2 = worker.log_file.stat().st_size
        with open(worker.log_file, "rb") as f:
            f.seek(log1)
            after = f.read(log2 - log1).decode("utf-8", "replace")
        lines = text.splitlines()
        kinds = Counter(_template(line) for line in lines if line.startswith("["))
        return OutageFigures(
            seconds=away, lines=len(lines), bytes=log1 - log0, cpu_s=cpu1 - cpu0,
            top=[(n, k) for k, n in kinds.most_common(8)],
            outage_lines=[ln for ln in (text + after).splitlines() if "Kafka broker" in ln],
            recovery_s=recovery, broker_start_s=ready, lines_after=len(after.splitlines()),
            fed=feeder.sent,
        )  # fmt: skip
    finally:
        kafka_backoff.uninstall()
        if not broker.is_running():
            broker.start()
        worker.stop()
        probe.close()
        feeder.join(0)  # a daemon thread: it ends with the process


def main(args: argparse.Namespace) -> int:
    root = Path(args.work_dir or tempfile.mkdtemp(prefix="newsflow-outage-")).resolve()
    broker = KafkaBroker(root / "kafka")
    broker.start()
    try:
        env = UNBOUNDED_ENV if args.unbounded else {}
        figures = measure(broker, root / "worker", args.seconds, env)
    finally:
        broker.stop()
    mode = "without back-off and filter (--unbounded)" if args.unbounded else "as configured"
    print(
        f"broker outage of {args.seconds:g} s, worker {mode}; shared machine, load "
        f"{os.getloadavg()[0]:.2f}:"
    )
    print(figures.table())
    if args.keep:
        print(f"work dir: {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    return 0
