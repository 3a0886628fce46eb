"""Running a worker: the pipeline's Faust worker in the foreground, once a broker answers.

``newsflow worker`` runs it against the configured broker; ``newsflow up`` (``workers.up``) with
a broker of its own.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterator
from types import FrameType

from workers.endpoints import bootstrap_of, quiet_client_logs
from workers.settings import Settings

RETRY_MAX_S = 30.0
INTERRUPTED = 130  # the shell's code for a process ended by Ctrl-C (as ``newsflow`` exits)


def say(message: str) -> None:
    """One line for the person at the terminal (stderr, so stdout stays data)."""
    print(message, file=sys.stderr, flush=True)


async def wait_for_broker(bootstrap: str, settings: Settings, who: str) -> None:
    """Return once a Kafka client can bootstrap from ``bootstrap``; until then say so on one
    line per try and retry with back-off (1, 2, 4, ... 30 s). Ctrl-C ends the wait."""
    import asyncio

    from aiokafka.client import AIOKafkaClient
    from aiokafka.errors import KafkaError

    from workers.runtime.admin import client_security

    delay = 1.0
    tries = 0
    while True:
        client = AIOKafkaClient(bootstrap_servers=bootstrap, **client_security(settings))
        try:
            with quiet_client_logs():
                await client.bootstrap()
            if tries:
                say(f"{who}: broker at {bootstrap} answers; starting")
            return
        except (KafkaError, OSError):
            tries += 1
            if tries == 1:
                origin = "NEWSFLOW_BROKER" if os.environ.get("NEWSFLOW_BROKER") else "the default"
                say(
                    f"{who}: no broker answers at {bootstrap} ({origin}); start one "
                    "(`newsflow broker kafka start`, or `newsflow up` for a broker and a worker "
                    "together) or set NEWSFLOW_BROKER to yours. Retrying with back-off; Ctrl-C "
                    "to stop."
                )
            else:
                say(f"{who}: still no broker at {bootstrap}; next try in {delay:.0f} s")
        finally:
            await client.close()
        await asyncio.sleep(delay)
        delay = min(delay * 2, RETRY_MAX_S)


async def wait_for_group_coordinator(bootstrap: str, group: str, timeout_s: float = 60.0) -> None:
    """Until Kafka names a coordinator for ``group``: on a fresh broker the offsets topic is
    still being made, and a worker joining then logs GroupCoordinatorNotAvailable errors."""
    import asyncio

    from aiokafka.client import AIOKafkaClient, CoordinationType
    from aiokafka.errors import KafkaError

    client = AIOKafkaClient(bootstrap_servers=bootstrap)
    deadline = time.monotonic() + timeout_s
    try:
        await client.bootstrap()
        while True:
            try:
                await client.coordinator_lookup(CoordinationType.GROUP, group)
                return
            except KafkaError:
                if time.monotonic() > deadline:
                    return  # the worker retries by itself; this only spares it the noise
                await asyncio.sleep(0.2)
    finally:
        await client.close()


@contextlib.contextmanager
def interrupt_exits(who: str) -> Iterator[None]:
    """Ctrl-C ends the process at once while nothing is started yet (waiting for the broker,
    creating topics): one line and exit 130. A KeyboardInterrupt handed to asyncio as a
    cancellation can be swallowed by a client library on its way out, and the wait then goes
    on; an exit here has nothing to clean up."""

    def stop(signum: int, frame: FrameType | None) -> None:
        say(f"{who}: interrupted")
        os._exit(INTERRUPTED)

    previous = signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def bound_broker_outages(settings: Settings) -> None:
    """Reconnect back-off with jitter in every Kafka client of this process, and aiokafka's
    connection errors summarized while the broker is away (``kafka_backoff``, ``brokerlog``);
    each off when its setting is 0."""
    from workers.runtime import brokerlog, kafka_backoff

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


def run_worker(
    settings: Settings, who: str = "newsflow worker", exit_on_interrupt: bool = False
) -> None:
    """Run the pipeline's Faust worker in the foreground until SIGINT/SIGTERM. With
    ``exit_on_interrupt`` (``newsflow worker``; not ``up``, which must stop its broker) Ctrl-C
    before the worker starts ends the process at once (``interrupt_exits``).

    Raises SystemExit when the worker stops (Faust's way of ending).
    """
    import asyncio

    import faust

    from workers.gctune import tune_gc
    from workers.malloc import fix_mmap_threshold
    from workers.runtime.admin import changelog_topics, ensure_topics
    from workers.runtime.pipeline import build_pipeline

    fix_mmap_threshold()  # before the first big buffer (see workers.malloc)
    tune_gc()  # fewer, shorter collections (see workers.gctune)
    bound_broker_outages(settings)
    bootstrap = bootstrap_of(settings.broker)
    with interrupt_exits(who) if exit_on_interrupt else contextlib.nullcontext():
        asyncio.run(wait_for_broker(bootstrap, settings, who))
        pipeline = build_pipeline(settings)
        asyncio.run(ensure_topics(bootstrap, settings, changelog_topics(pipeline.app)))
    # redirect_stdouts=False: what `up` says on stderr stays plain lines, not log records
    worker = faust.Worker(pipeline.app, loglevel=settings.log_level.upper(), redirect_stdouts=False)
    # At level WARNING or above Faust's start-up spinner sets the root logger to DEBUG (its
    # handler wants every record), so each debug call in Faust and aiokafka, several per record
    # sent, built a LogRecord only to drop it. No spinner: the root logger keeps the level
    # asked for.
    worker.spinner = None
    say(f"{who}: broker {bootstrap}; web stats on http://{settings.web_host}:{settings.web_port}/")
    worker.execute_from_commandline()
