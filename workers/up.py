"""``newsflow up``: a broker of its own and a worker (``workers.runtime.worker``): the embedded
Tansu in memory, or Apache Kafka on disk with ``--persist``; with ``--demo``, the sample pages.

``newsflow up`` stops in the order that lets everything stop cleanly: the broker runs in its own
session, so the terminal's Ctrl-C reaches only the worker; the worker stops (commits, closes its
tables) while the broker still answers, and then ``up`` stops the broker and removes what it made.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workers.endpoints import bootstrap_of, quiet_client_logs
from workers.runtime.worker import run_worker, say, wait_for_group_coordinator
from workers.settings import Settings

SHARED_SEED = Path("../shared/seed/page.txt")
#: Faust's own INFO lines (~170 at start) bury what ``up`` has to say; NEWSFLOW_LOG_LEVEL wins.
UP_LOG_LEVEL = "warning"
#: Tansu answers a group join after half the session timeout, and a Ctrl-C during the join waits
#: for it: 6 s keeps ``up``'s stop under 5 s and brings the first page sooner. One worker on a
#: local broker has no partitions to hand over, which is what the timeout is for.
#: NEWSFLOW_SESSION_TIMEOUT_S wins.
UP_TANSU_SESSION_TIMEOUT_S = 6.0


def demo_pages() -> list[dict[str, Any]]:
    """The packaged sample pages, plus the project's seed page when ``../shared`` is beside us."""
    from importlib import resources

    from workers.clients.produce import iter_pages

    pages: list[dict[str, Any]] = []
    if SHARED_SEED.exists():
        pages.extend(iter_pages([SHARED_SEED]))
    samples = resources.files("workers.samples")
    with resources.as_file(samples) as folder:
        pages.extend(iter_pages([folder]))
    return pages


# -- newsflow up ---------------------------------------------------------------------------


def _port_of(broker_url: str, default: int = 9092) -> int:
    first = bootstrap_of(broker_url).split(",")[0]
    port = first.rpartition(":")[2]
    return int(port) if port.isdigit() else default


def _get_json(url: str) -> dict[str, Any] | None:
    import orjson

    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            body: dict[str, Any] = orjson.loads(resp.read())
            return body
    except (OSError, ValueError):
        return None


def _report_progress(
    web: str, t0: float, bootstrap: str, topic: str, pages: list[dict[str, Any]] | None
) -> None:
    """Background thread of ``up``: feed the demo pages once the worker has made its topics
    (its web server starts after that), then say when the first page is enriched."""
    import asyncio

    from workers.clients.produce import produce_pages

    stats_url = f"{web}/api/stats"
    while _get_json(stats_url) is None:
        time.sleep(0.3)
    if pages:
        try:
            # quiet: retries while fresh topics get their leaders are expected (~1 s)
            with quiet_client_logs():
                n = asyncio.run(produce_pages(bootstrap, topic, pages, progress=False))
        except Exception as exc:  # the worker goes on; the user can produce by hand
            say(f"demo: could not send the sample pages to {bootstrap}: {exc}")
        else:
            say(f"demo: produced {n} sample pages to {topic} (newsflow produce FILE... sends more)")
    else:
        say(f"ready: send pages with `newsflow produce FILE...` (to {topic} on {bootstrap})")
    while True:
        stats = _get_json(stats_url)
        if stats and stats.get("records_out", {}).get("extract", 0) >= 1:
            say(
                f"first page enriched {time.monotonic() - t0:.1f} s after start: "
                f"`newsflow tail` prints it, `newsflow top` lists the top entities, "
                f"the dashboard is {web}/"
            )
            return
        time.sleep(0.5)


def _kafka_for(data_dir: Path, wanted: int) -> Any:
    """Apache Kafka keeping its data in ``data_dir``: on its saved ports when they are free,
    else on ``wanted`` (the first time) or on any free port."""
    from workers.brokers.common import free_port, port_is_free
    from workers.brokers.kafka import KafkaBroker

    fresh = not (data_dir / "broker.json").is_file()
    broker = KafkaBroker(data_dir, port=wanted if fresh and port_is_free(wanted) else None)
    if not port_is_free(broker.port):
        broker.port = wanted if port_is_free(wanted) else free_port()
    if not port_is_free(broker.controller_port):
        broker.controller_port = free_port()
    return broker


def _kafka_assembled(broker: Any) -> bool:
    from workers.brokers.kafka import _libs_complete

    return _libs_complete(broker.home / "libs", broker.version)


def run_up(settings: Settings, demo: bool, persist: Path | None = None) -> int:
    """Start a broker and a worker; with ``demo``, feed the sample pages. Returns the exit code.

    Without ``persist``: the embedded Tansu broker (memory only) and a temporary table folder,
    both gone at the end. With ``persist``: Apache Kafka (workers.brokers.kafka) with its data
    in ``persist/kafka`` and the worker's tables in ``persist/worker``, so a restart with the
    same folder carries on with the same counts.
    """
    import asyncio

    from workers.brokers.common import BrokerError, free_port, port_is_free
    from workers.brokers.tansu import TansuBroker
    from workers.endpoints import UpInstance, register_up, unregister_up

    t0 = time.monotonic()
    if "NEWSFLOW_LOG_LEVEL" not in os.environ:
        settings = dataclasses.replace(settings, log_level=UP_LOG_LEVEL)
    wanted = _port_of(settings.broker)
    web_port = settings.web_port
    if not port_is_free(web_port, settings.web_host):
        web_port = free_port()
        say(f"newsflow up: port {settings.web_port} is taken; web stats on port {web_port}")
    web_host = "127.0.0.1" if settings.web_host in ("0.0.0.0", "") else settings.web_host
    web = f"http://{web_host}:{web_port}"

    broker: Any
    with contextlib.ExitStack() as stack:
        if persist is None:
            say(
                "newsflow up: the memory broker (Tansu) keeps nothing: topics, counts and "
                "tables are gone when it stops (`newsflow up --persist` keeps them on Apache "
                "Kafka)"
            )
            broker = TansuBroker(port=wanted if port_is_free(wanted) else None, own_session=True)
            if "NEWSFLOW_SESSION_TIMEOUT_S" not in os.environ:
                settings = dataclasses.replace(
                    settings, session_timeout_s=UP_TANSU_SESSION_TIMEOUT_S
                )
            data_dir = Path(tempfile.mkdtemp(prefix="newsflow-up-"))
            stack.callback(shutil.rmtree, data_dir, ignore_errors=True)
            what = "the embedded Tansu broker"
        else:
            persist = persist.resolve()
            say(
                f"newsflow up --persist: Apache Kafka and the worker's tables keep their data "
                f"in {persist}; start again with the same folder to carry on"
            )
            broker = _kafka_for(persist / "kafka", wanted)
            data_dir = persist / "worker"
            what = "Apache Kafka"
            if not _kafka_assembled(broker):
                what += " (this first time Maven downloads its jars, ~45 MB)"
        if broker.port != wanted:
            say(f"newsflow up: port {wanted} is taken; the broker listens on {broker.bootstrap}")
        say(f"newsflow up: starting {what} on {broker.bootstrap} ...")
        try:
            with quiet_client_logs():  # the readiness probe's retries are expected
                if persist is None:
                    broker.start()
                else:
                    broker.start(own_session=True)
                    asyncio.run(wait_for_group_coordinator(broker.bootstrap, settings.app_id))
        except BrokerError as exc:
            say(f"newsflow up: the broker did not start: {str(exc).splitlines()[0]}")
            if persist is not None and not (shutil.which("java") and shutil.which("mvn")):
                say(
                    "newsflow up: --persist needs Java 17+ and Maven (Debian: apt-get install "
                    "openjdk-17-jre-headless maven); without --persist nothing is needed"
                )
            return 1
        stack.callback(broker.stop)
        stack.enter_context(_no_interrupts_on_exit())
        record = register_up(
            UpInstance(
                pid=os.getpid(),
                bootstrap=broker.bootstrap,
                web_url=web,
                broker="tansu (memory)" if persist is None else f"kafka ({persist})",
                started_at=time.time(),
            )
        )
        stack.callback(unregister_up, record)
        say(
            f"newsflow up: broker ready in {broker.start_seconds:.1f} s; `newsflow produce`, "
            f"`tail` and `top` find it ({record}). Ctrl-C stops the worker, then the broker."
        )
        settings = dataclasses.replace(
            settings,
            broker=f"kafka://{broker.bootstrap}",
            data_dir=str(data_dir),
            web_port=web_port,
        )
        pages = demo_pages() if demo else None
        threading.Thread(
            target=_report_progress,
            args=(web, t0, broker.bootstrap, settings.raw_topics[0], pages),
            name="up-progress",
            daemon=True,
        ).start()
        try:
            run_worker(settings, who="newsflow up")
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        t_stop = time.monotonic()
    say(f"newsflow up: worker stopped; broker stopped in {time.monotonic() - t_stop:.1f} s")
    return code


@contextlib.contextmanager
def _no_interrupts_on_exit() -> Iterator[None]:
    """Entered right after the broker starts, so its body is the worker's run: on the way out
    (the worker has stopped) Ctrl-C is ignored until the broker is stopped too."""
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
