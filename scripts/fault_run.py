"""Full fault run (issue 6): 20,000 pages, 3 SIGKILLs at random moments, one 20 s broker stop;
prints the figure table (records, kills, lost, duplicates, count mismatches, recovery time).

    python scripts/fault_run.py                  # full size, own Kafka broker in a temp dir
    python scripts/fault_run.py --pages 2000 --kills 1 --broker-stop 5

Run from the repository root (it imports ``tests.helpers``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers.faults import fault_corpus, offline_recount, run_faults
from workers.brokers.kafka import KafkaBroker


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=20_000)
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--broker-stop", type=float, default=20.0, help="seconds; 0 = no stop")
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="newsflow-faults-"))
    broker = KafkaBroker(work / "kafka")
    broker.start()
    try:
        pages = fault_corpus(args.pages, seed=args.seed)
        t0 = time.monotonic()
        expected = offline_recount(pages)
        print(f"offline recount of {len(pages)} records: {time.monotonic() - t0:.0f} s", flush=True)
        report = run_faults(
            broker.bootstrap, work / "worker", pages, kills=args.kills,
            broker=broker if args.broker_stop > 0 else None, broker_stop_s=args.broker_stop,
            partitions=args.partitions, seed=args.seed, settle_timeout=3600, expected=expected,
        )  # fmt: skip
    finally:
        if broker.is_running():
            broker.stop()
    print(report.table())
    if report.lost_ids:
        print("lost (first 20):", report.lost_ids)
    if report.mismatched:
        print("mismatched (key, expected, counted; first 20):", report.mismatched)
    print(f"work dir (worker log, broker data): {work}")
    return 0 if report.lost == 0 and report.count_mismatches == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
