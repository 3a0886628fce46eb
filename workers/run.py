"""Running a worker: against a configured broker (``newsflow worker``) or with the embedded
Tansu broker (``newsflow up``)."""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from workers.settings import Settings

log = logging.getLogger("newsflow")

SHARED_SEED = Path("../shared/seed/page.txt")


def bootstrap_of(broker_url: str) -> str:
    """``kafka://h:p;kafka://h2:p2`` (Faust style) -> ``h:p,h2:p2`` (aiokafka style)."""
    parts = broker_url.replace(";", ",").split(",")
    return ",".join(p.strip().removeprefix("kafka://") for p in parts if p.strip())


def bound_broker_outages(settings: Settings) -> None:
    """Reconnect back-off with jitter in every Kafka client of this process, and aiokafka's
    connection errors summarized while the broker is away (``workers.kafka_backoff``,
    ``workers.brokerlog``); each off when its setting is 0."""
    from workers import brokerlog, kafka_backoff

    on_reachable = None
    if settings.broker_outage_log_s > 0:
        on_reachable = brokerlog.install(settings.broker_outage_log_s).reachable
    if settings.reconnect_backoff_max_ms > 0 or on_reachable is not None:
        # (with a zero maximum it only tells the log filter when the broker is back)
        kafka_backoff.install(
            settings.reconnect_backoff_ms / 1000,
            settings.reconnect_backoff_max_ms / 1000,
            on_reachable=on_reachable,
        )


def run_worker(settings: Settings) -> None:
    """Run the pipeline's Faust worker in the foreground until SIGINT/SIGTERM."""
    import asyncio

    import faust

    from workers.admin import changelog_topics, ensure_topics
    from workers.gctune import tune_gc
    from workers.malloc import fix_mmap_threshold
    from workers.pipeline import build_pipeline

    fix_mmap_threshold()  # before the first big buffer (see workers.malloc)
    tune_gc()  # fewer, shorter collections (see workers.gctune)
    bound_broker_outages(settings)
    pipeline = build_pipeline(settings)
    bootstrap = bootstrap_of(settings.broker)
    asyncio.run(ensure_topics(bootstrap, settings, changelog_topics(pipeline.app)))
    worker = faust.Worker(pipeline.app, loglevel=settings.log_level.upper())
    # At level WARNING or above Faust's start-up spinner sets the root logger to DEBUG (its
    # handler wants every record), so each debug call in Faust and aiokafka, several per record
    # sent, built a LogRecord only to drop it: ~5 % of the worker process. No spinner: the
    # root logger keeps the level asked for.
    worker.spinner = None
    log.info("web stats on http://%s:%d/", settings.web_host, settings.web_port)
    worker.execute_from_commandline()


def demo_pages() -> list[dict[str, Any]]:
    """The packaged sample pages, plus the project's seed page when ``../shared`` is beside us."""
    from importlib import resources

    from workers.produce import iter_pages

    pages: list[dict[str, Any]] = []
    if SHARED_SEED.exists():
        pages.extend(iter_pages([SHARED_SEED]))
    samples = resources.files("workers.samples")
    with resources.as_file(samples) as folder:
        pages.extend(iter_pages([folder]))
    return pages


def _feed_in_background(bootstrap: str, topic: str, pages: Iterable[dict[str, Any]]) -> None:
    import asyncio

    from workers.produce import produce_pages

    def feed() -> None:
        n = asyncio.run(produce_pages(bootstrap, topic, pages, progress=False))
        log.info("demo: produced %d sample pages to %s", n, topic)

    threading.Thread(target=feed, name="demo-feed", daemon=True).start()


def run_up(settings: Settings, demo: bool) -> None:
    """Start the embedded Tansu broker, optionally feed the sample pages, run a worker.

    Tansu keeps data in memory only, so the worker's table store goes to a fresh temporary
    folder too: state from an earlier run would not match the new, empty broker.
    """
    from workers.brokers.common import port_is_free
    from workers.brokers.tansu import TansuBroker

    wanted = int(bootstrap_of(settings.broker).split(",")[0].rpartition(":")[2] or 9092)
    broker = TansuBroker(port=wanted if port_is_free(wanted) else None)
    print(f"starting the embedded Tansu broker on {broker.bootstrap} ...", flush=True)
    broker.start()
    data_dir = tempfile.mkdtemp(prefix="newsflow-up-")
    settings = dataclasses.replace(
        settings, broker=f"kafka://{broker.bootstrap}", data_dir=data_dir
    )
    print(
        f"broker ready in {broker.start_seconds:.1f} s; worker web stats on "
        f"http://{settings.web_host}:{settings.web_port}/",
        flush=True,
    )
    try:
        if demo:
            _feed_in_background(broker.bootstrap, settings.raw_topics[0], demo_pages())
        run_worker(settings)
    finally:
        broker.stop()
