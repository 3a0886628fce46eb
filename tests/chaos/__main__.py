"""``python -m tests.chaos``: run seeded fault schedules (or measure a broker outage)."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tests.chaos.runner import RunResult, run
from tests.chaos.schedule import PRESETS, draw
from workers.brokers.kafka import KafkaBroker


def table(rows: list[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k:<{width}}  {v}" for k, v in rows)


def write_result(result: RunResult, path: Path) -> None:
    r = result.report
    data = {
        "schedule": result.schedule.as_dict(),
        "ok": result.ok,
        "wall_s": round(result.wall_s, 1),
        "figures": dict(r.rows()),
        "lost": [vars(x) for x in r.lost],
        "over": r.over,
        "under": r.under,
        "type_mismatches": r.type_mismatches,
        "api_mismatches": r.api_mismatches,
        "committed_lag": r.committed_lag,
        "notes": r.notes,
        "events": result.events,
    }
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def run_many(args: argparse.Namespace) -> int:
    root = Path(args.work_dir or tempfile.mkdtemp(prefix="newsflow-chaos-")).resolve()
    root.mkdir(parents=True, exist_ok=True)
    seeds = [args.seed + i for i in range(args.runs)]
    broker = KafkaBroker(root / "kafka")
    broker.start()
    print(f"broker {broker.bootstrap}, work dir {root}", flush=True)
    results: list[RunResult] = []
    try:
        for seed in seeds:
            schedule = draw(seed, args.preset)
            print(f"\n=== run {len(results) + 1}/{len(seeds)}: {schedule.describe()}", flush=True)
            work = root / f"run-{args.preset}-{seed}"
            env = dict(kv.split("=", 1) for kv in args.worker_env)
            result = run(schedule, broker, work, say=lambda s: print(s, flush=True), worker_env=env)
            results.append(result)
            write_result(result, work / "result.json")
            print(table(result.report.rows()))
            print(f"  {'wall time':<44}  {result.wall_s:.0f} s")
            if result.report.details():
                print(result.report.details())
            verdict = "PASSED" if result.ok else "FAILED"
            print(
                f"=== seed {seed} {verdict} (replay: python -m tests.chaos --preset "
                f"{args.preset} --seed {seed}); details in {work / 'result.json'}",
                flush=True,
            )
            if result.ok and not args.keep:
                shutil.rmtree(work, ignore_errors=True)
    finally:
        broker.stop()
    failed = [r for r in results if not r.ok]
    print("\nseed   result  lost  too high  too low  types  api  lag  wall s")
    for r in results:
        rep = r.report
        lag = sum(rep.committed_lag.values())
        print(
            f"{r.schedule.seed:<6} {'ok' if r.ok else 'FAIL':<7} {len(rep.lost):<5} "
            f"{len(rep.over):<9} {len(rep.under):<8} {len(rep.type_mismatches):<6} "
            f"{len(rep.api_mismatches):<4} {lag:<4} {r.wall_s:.0f}"
        )
    if failed:
        print(f"\nFAILING SEEDS ({args.preset}): {' '.join(str(r.schedule.seed) for r in failed)}")
    if not failed and not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    ap.add_argument("mode", nargs="?", choices=["run", "outage"], default="run")
    ap.add_argument("--seed", type=int, default=None, help="first seed (default: from the clock)")
    ap.add_argument("--runs", type=int, default=1, help="schedules to run: seed, seed+1, ...")
    ap.add_argument("--preset", choices=PRESETS, default="random")
    ap.add_argument("--work-dir", help="where runs keep logs and data (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the work dir of passing runs too")
    ap.add_argument(
        "--worker-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="add to the workers' environment (repeatable)",
    )
    ap.add_argument(
        "--seconds", type=float, default=20.0, help="outage: how long the broker is away"
    )
    ap.add_argument(
        "--unbounded",
        action="store_true",
        help="outage: without the reconnect back-off and the log filter (the before)",
    )
    args = ap.parse_args(argv)
    if args.mode == "outage":
        from tests.chaos.outage import main as outage_main

        return outage_main(args)
    if args.seed is None:
        args.seed = int(time.time()) % 100_000
    return run_many(args)


if __name__ == "__main__":
    sys.exit(main())
