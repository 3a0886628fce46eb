"""Make ``docs/dashboard.png``: a worker on a real Kafka broker under load, its dashboard in
headless Chromium. Run once by hand (needs Java + Maven for the broker, Debian's chromium and a
CJK font such as fonts-noto-cjk so the Japanese names render)::

    python scripts/screenshot_dashboard.py [--out docs/dashboard.png] [--pages 600]

``NEWSFLOW_TEST_BROKER=host:port`` uses a broker you already run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers.worker import WorkerProcess  # noqa: E402
from tests.web.browser import browser_page  # noqa: E402
from tests.web.live import LiveWorker  # noqa: E402
from workers.brokers.kafka import KafkaBroker  # noqa: E402


def feed(live: LiveWorker, pages: int, stop: threading.Event) -> None:
    """Pages in batches of 15 (one bad record in ten batches) until ``pages`` are sent."""
    sent = batch = 0
    while sent < pages and not stop.is_set():
        live.produce(good=15, bad=1 if batch % 10 == 3 else 0, tag=f"load{batch}")
        sent += 15
        batch += 1
        time.sleep(0.6)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "docs" / "dashboard.png"))
    parser.add_argument("--pages", type=int, default=5000, help="at most")
    parser.add_argument("--settle", type=float, default=25.0, help="seconds of load before")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="newsflow-shot-"))
    broker = None
    bootstrap = os.environ.get("NEWSFLOW_TEST_BROKER")
    if not bootstrap:
        broker = KafkaBroker(work / "kafka")
        broker.start()
        bootstrap = broker.bootstrap
    worker = WorkerProcess(bootstrap, work, partitions=4).start()
    live = LiveWorker(worker)
    stop = threading.Event()
    feeder = threading.Thread(target=feed, args=(live, args.pages, stop), daemon=True)
    try:
        feeder.start()
        with browser_page(width=1440, height=1000) as page:
            page.emulate_media(color_scheme="dark")
            page.goto(live.url("/"))
            page.wait_for_selector('#status[data-state="live"]', timeout=30_000)
            time.sleep(args.settle)
            page.wait_for_selector('#status[data-state="live"]', timeout=10_000)
            page.screenshot(path=args.out, full_page=True)
        print(f"saved {args.out}; stats: {worker.get('/api/stats')['records_out']}")
        return 0
    finally:
        stop.set()
        feeder.join(30)
        worker.stop()
        if broker is not None:
            broker.stop()


if __name__ == "__main__":
    sys.exit(main())
