"""``newsflow bench``: one run, one corpus, one table (see docs/benchmark.md for figures).

Rows: the limit (bare Sudachi), the stages offline, the pipeline end to end with one worker
(pinned to one core) and with two, latency at half the one-worker maximum, RSS, restart time.
Wall-clock rates wobble on a shared machine, so CPU-second rates are printed beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from workers.bench.corpus import Kind, generate_pages
from workers.bench.end_to_end import (
    Deployment,
    PacedLoad,
    RunResult,
    delete_topics,
    latency_run,
    log,
    percentile,
    restart_run,
    throughput_run,
)
from workers.bench.inprocess import Measure, stage_measures
from workers.bench.placement import off_worker_core


@dataclass(frozen=True)
class Plan:
    """How much work each part of the run gets."""

    e2e_pages: int
    offline_pages: int
    latency_s: float
    #: pages/s of the latency phase; None: half the 1-worker maximum (the issue's measure).
    #: A fixed rate compares two builds at the same load (half of a maximum moves with it).
    latency_rate: float | None = None
    partitions: int = 4
    seed: int = 1
    kind: Kind = "mixed"


QUICK = Plan(e2e_pages=120, offline_pages=40, latency_s=4.0)
FULL = Plan(e2e_pages=100_000, offline_pages=2_000, latency_s=60.0)


@dataclass
class Results:
    plan: Plan
    offline: dict[str, Measure]
    one: RunResult
    two: RunResult | None
    latencies: list[float]
    latency_rate: float
    latency_load: PacedLoad
    restart_s: float | None
    commit: str
    started: str
    wall_s: float = 0.0
    #: cores the broker and the bench ran on during the 1-worker phases (empty: anywhere)
    load_cores: frozenset[int] = frozenset()


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=12"],
            capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent,
        )  # fmt: skip
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


@contextlib.contextmanager
def _broker(
    bootstrap: str | None, workdir: Path, pid: int | None = None
) -> Iterator[tuple[str, int | None]]:
    """(bootstrap, broker pid): the given broker, or a fresh one for this run."""
    if bootstrap:
        yield bootstrap, pid
        return
    from workers.brokers.kafka import KafkaBroker

    broker = KafkaBroker(workdir / "kafka", heap="1g")
    log("starting a Kafka broker")
    broker.start()
    log(f"Kafka on {broker.bootstrap} ready in {broker.start_seconds:.1f} s")
    try:
        yield broker.bootstrap, broker.pid()
    finally:
        broker.stop()


async def _run(
    plan: Plan,
    bootstrap: str,
    workdir: Path,
    two: bool,
    restart: bool,
    broker_pid: int | None = None,
    drop_topics: bool = False,
) -> Results:
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    t0 = time.monotonic()
    kind = plan.kind
    log(f"offline: {plan.offline_pages} pages")
    offline = await asyncio.to_thread(
        stage_measures, list(generate_pages(plan.offline_pages, plan.seed, kind))
    )
    for m in offline.values():
        log(f"offline {m.name}: {m.pages_per_s:.1f} pages/s, {m.chars_per_s:,.0f} chars/s")
    pages = list(generate_pages(plan.e2e_pages, plan.seed, kind))
    timeout = 300 + plan.e2e_pages / 5
    with off_worker_core([] if broker_pid is None else [broker_pid]) as load_cores:
        where = f"core(s) {sorted(load_cores)}" if load_cores else "any core (one-core machine)"
        log(f"1 worker on core 0; this bench{' and the broker' if broker_pid else ''} on {where}")
        if broker_pid is None:
            log("the broker was started elsewhere: pass --broker-pid to keep it off core 0")
        one, dep, workers = await throughput_run(
            bootstrap, workdir, pages, ["0"], plan.partitions, "1 worker", timeout
        )
        rate = plan.latency_rate or max(1.0, one.pages_per_s / 2)
        n_lat = max(20, int(rate * plan.latency_s))
        lat_pages = list(generate_pages(n_lat, plan.seed + 1000, kind))
        latencies, load = await latency_run(
            dep, lat_pages, rate, timeout=120 + plan.latency_s * 2, workers=workers
        )
        one.rss_end_mb = [w.rss_mb() for w in workers]
        restart_s = None
        if restart:
            restart_page = next(iter(generate_pages(1, plan.seed + 2000, kind)))
            restart_s = await restart_run(workers[0], restart_page)
            log(f"restart: processing again after {restart_s:.1f} s")
        for w in workers:
            w.stop()
        await _drop(dep, drop_topics)
    result_two = None
    if two:
        result_two, dep2, workers2 = await throughput_run(
            bootstrap, workdir, pages, ["0", "1"], plan.partitions, "2 workers", timeout
        )
        for w in workers2:
            w.stop()
        await _drop(dep2, drop_topics)
    return Results(
        plan, offline, one, result_two, latencies, rate, load, restart_s, _commit(), started,
        time.monotonic() - t0, frozenset(load_cores if broker_pid is not None else ()),
    )  # fmt: skip


async def _drop(dep: Deployment, drop: bool) -> None:
    if drop:
        gone = await delete_topics(dep)
        log(f"deleted this run's {len(gone)} topics from the broker (--keep-topics keeps them)")


def _cores(cores: frozenset[int]) -> str:
    return ("core " if len(cores) == 1 else "cores ") + ", ".join(map(str, sorted(cores)))


def _fmt(x: float, digits: int = 0) -> str:
    return f"{x:,.{digits}f}"


def render(r: Results) -> str:
    """The table as Markdown (what docs/benchmark.md shows)."""
    limit = r.offline["sudachi"]
    lim_cpu = limit.chars / limit.cpu_s if limit.cpu_s else float("nan")
    head = (
        f"newsflow bench: commit {r.commit}, {r.started}, corpus seed {r.plan.seed} "
        f"({r.plan.kind}), {r.plan.partitions} partitions, run took {r.wall_s:.0f} s\n\n"
        "| measurement | pages | pages/s | chars/s | × limit | CPU s | chars/CPU-s "
        "| × limit (CPU) |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    rows = []

    def row(name: str, pages: int, wall: float, chars: int, cpu: float) -> None:
        cps = chars / wall if wall else 0.0
        ccpu = chars / cpu if cpu else float("nan")
        rows.append(
            f"| {name} | {pages:,} | {_fmt(pages / wall if wall else 0, 1)} | {_fmt(cps)} "
            f"| {cps / limit.chars_per_s:.2f} | {cpu:.1f} | {_fmt(ccpu)} | {ccpu / lim_cpu:.2f} |"
        )

    row("limit: bare Sudachi (mode C, one tokenizer)", limit.pages, limit.wall_s, limit.chars,
        limit.cpu_s)  # fmt: skip
    for name in ("clean", "extract", "clean+extract"):
        m = r.offline[name]
        row(f"offline {name}", m.pages, m.wall_s, m.chars, m.cpu_s)
    alone = f", broker and bench on {_cores(r.load_cores)}" if r.load_cores else ""
    row(f"end to end, 1 worker (taskset -c 0{alone})", r.one.pages, r.one.wall_s, r.one.chars,
        r.one.cpu_s)  # fmt: skip
    if r.two is not None:
        row("end to end, 2 workers (cores 0, 1)", r.two.pages, r.two.wall_s, r.two.chars,
            r.two.cpu_s)  # fmt: skip
    lat = r.latencies
    rate_is = "fixed" if r.plan.latency_rate else "half of 1-worker max"
    ms = [percentile(lat, q) * 1000 for q in (0.5, 0.95, 0.99)]
    one_rss = r.one.rss_samples_mb
    lines = [
        "",
        "| other measurement | value |",
        "|---|---|",
        f"| latency produce → enriched at {r.latency_rate:.1f} pages/s ({rate_is}), "
        f"{len(lat)} pages | p50 {ms[0]:.0f} ms / p95 {ms[1]:.0f} ms / p99 {ms[2]:.0f} ms |",
        f"| 1 worker CPU s: worker process (Faust, Kafka, count) / stage processes "
        f"(clean, extract) | {r.one.main_cpu_s:.1f} / {r.one.cpu_s - r.one.main_cpu_s:.1f} |",
        f"| 1 worker CPU per page: draining the backlog / paced at {r.latency_rate:.1f} pages/s "
        f"(worker process in brackets); its core's load while paced | "
        f"{1000 * r.one.cpu_s / max(1, r.one.pages):.1f} ms "
        f"({1000 * r.one.main_cpu_s / max(1, r.one.pages):.1f}) / "
        f"{r.latency_load.ms_per_page:.1f} ms ({r.latency_load.main_ms_per_page:.1f}); "
        f"{100 * r.latency_load.core_share:.0f} % |",
        f"| 1 worker RSS: start → after the run (with its stage processes, latency phase "
        f"included) | "
        f"{r.one.rss_start_mb[0]:.0f} MB → {r.one.rss_end_mb[0]:.0f} MB |",
        f"| 1 worker RSS during the throughput run: min / max | "
        f"{min(one_rss, default=0):.0f} / {max(one_rss, default=0):.0f} MB |",
    ]
    if r.one.memory_track:
        lines.append(
            "| 1 worker memory along the run, pages: RSS / PSS / worker process alone (RSS and "
            "PSS include the stage processes; PSS counts a page they share once) | "
            + ", ".join(
                f"{d:,}: {a:.0f} / {b:.0f} / {c:.0f} MB" for d, a, b, c in r.one.memory_track
            )
            + " |"
        )
    if r.two is not None:
        lines.append(
            f"| 2 workers: throughput ÷ 1 worker's | {r.two.pages_per_s / r.one.pages_per_s:.2f}× "
            f"(RSS {' + '.join(f'{x:.0f}' for x in r.two.rss_end_mb)} MB after) |"
        )
    if r.restart_s is not None:
        lines.append(
            f"| restart → processing again ({r.one.pages:,} articles in the tables) | "
            f"{r.restart_s:.1f} s |"
        )
    return head + "\n".join(rows) + "\n" + "\n".join(lines) + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small run for CI (default)")
    mode.add_argument("--full", action="store_true", help="100,000 pages end to end, for figures")
    parser.add_argument("--pages", type=int, help="pages end to end (overrides the mode)")
    parser.add_argument("--offline-pages", type=int, help="pages for the offline rows")
    parser.add_argument("--latency-s", type=float, help="seconds of paced load for latency")
    parser.add_argument(
        "--latency-rate", type=float, help="pages/s for latency (default: half the 1-worker max)"
    )
    parser.add_argument("--kind", choices=["text", "html", "mixed"], help="corpus page kind")
    parser.add_argument("--seed", type=int, help="corpus seed")
    parser.add_argument("--bootstrap", help="use this Kafka (host:port) instead of starting one")
    parser.add_argument(
        "--broker-pid", type=int, help="with --bootstrap: the broker's pid, kept off core 0 "
        "while one worker runs (a broker the bench starts is kept off it anyway)",
    )  # fmt: skip
    parser.add_argument(
        "--keep-topics", action="store_true",
        help="with --bootstrap: leave this run's topics on the broker (deleted by default)",
    )  # fmt: skip
    parser.add_argument("--one-worker-only", action="store_true", help="skip the 2-worker run")
    parser.add_argument("--no-restart", action="store_true", help="skip the restart timing")
    parser.add_argument(
        "--adversarial", action="store_true",
        help="only time the clean stage on adversarial pages (deep nesting, huge attributes and "
        "text nodes; workers/bench/adversarial.py), offline, one child process a page",
    )  # fmt: skip
    parser.add_argument(
        "--deadline", type=float, default=10.0,
        help="with --adversarial: seconds a page may take before it shows as over",
    )  # fmt: skip
    parser.add_argument(
        "--page", action="append", help="with --adversarial: only this page (repeatable)"
    )
    parser.add_argument("--save", help="also write the table to this Markdown file")
    parser.add_argument("--workdir", help="keep worker data and logs here (default: temporary)")


def _adversarial(args: argparse.Namespace) -> int:
    from workers.bench import adversarial

    when = time.strftime("%Y-%m-%d %H:%M:%S")
    head = f"newsflow bench --adversarial: commit {_commit()}, {when}\n\n"
    table = head + adversarial.run(args.deadline, args.page)
    print(table)
    if args.save:
        Path(args.save).write_text(table, encoding="utf-8")
    return 0


def run_cli(args: argparse.Namespace) -> int:
    import logging

    if getattr(args, "adversarial", False):
        return _adversarial(args)

    # Retries on freshly created topics (NotLeaderForPartition) are expected noise here.
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    base = FULL if args.full else QUICK
    plan = Plan(
        e2e_pages=args.pages or base.e2e_pages,
        offline_pages=args.offline_pages or min(base.offline_pages, args.pages or 10**9),
        latency_s=args.latency_s or base.latency_s,
        latency_rate=args.latency_rate,
        seed=base.seed if args.seed is None else args.seed,
        kind=args.kind or base.kind,
    )
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="newsflow-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        with _broker(args.bootstrap, workdir, args.broker_pid) as (bootstrap, broker_pid):
            two, restart = not args.one_worker_only, not args.no_restart
            drop = bool(args.bootstrap) and not args.keep_topics  # an own broker goes entirely
            results = asyncio.run(
                _run(plan, bootstrap, workdir, two, restart, broker_pid, drop_topics=drop)
            )
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    table = render(results)
    print(table)
    if args.save:
        Path(args.save).write_text(table, encoding="utf-8")
        log(f"table written to {args.save}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="newsflow bench", description=__doc__)
    add_arguments(parser)
    return run_cli(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
