"""Carry out one schedule on a real Apache Kafka broker with two ``newsflow worker`` processes,
wait for quiescence, and check (``tests.chaos.checker``).

The workers are run as users run them (``tests.helpers.worker``): own data dirs, own web ports,
one consumer group. A kill is SIGKILL to a worker's process group (its stage children too); the
worker is started again on the same data dir ``down_s`` later. The broker is stopped cleanly
(SIGTERM) or SIGKILLed, and started again on the same data dir and port.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import threading
import time
import urllib.error
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiokafka import AIOKafkaProducer

from tests.chaos.checker import Observed, Rec, Report, WorkerTables, check
from tests.chaos.inputs import Planned, build, expected_versions, slow_page
from tests.chaos.probe import Probe
from tests.chaos.schedule import Fault, Phase, Schedule
from tests.helpers.kafka import create_topic, produce, read_topic
from tests.helpers.worker import WorkerProcess
from workers.brokers.kafka import KafkaBroker
from workers.runtime import kafka_backoff

#: The raw topic takes the matrix's 10 MB record (a crawler's topic would be set so).
RAW_TOPIC_CONFIG = {"max.message.bytes": str(16 << 20)}
MAX_REQUEST = 16 << 20
#: A progress trigger fires anyway when the enriched topic stops growing this long after the
#: production ended (the run then fails on quiescence or on the check, not on the harness).
STALL_S = 120.0
REBALANCE_WAIT_S = 30.0
API_SAMPLE = 25


@dataclass
class RunResult:
    schedule: Schedule
    report: Report
    events: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    work_dir: Path | None = None

    @property
    def ok(self) -> bool:
        return self.report.ok


class Feeder(threading.Thread):
    """Produces the records phase by phase (bursts, paced rates) while faults happen; a record
    whose send fails (broker away) is sent again, so every planned record reaches the raw topic
    at least once (a second copy is an exact re-crawl, which the rules cover)."""

    def __init__(
        self, bootstrap: str, topic: str, records: list[Planned], phases: tuple[Phase, ...]
    ) -> None:
        super().__init__(name="feeder", daemon=True)
        self.bootstrap, self.topic, self.records, self.phases = bootstrap, topic, records, phases
        self.done = threading.Event()
        self.resent = 0
        self.sent = 0  # records acknowledged by the broker
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:  # reported by the runner
            self.error = exc
        finally:
            self.done.set()

    async def _run(self) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", max_request_size=MAX_REQUEST,
            request_timeout_ms=20_000, linger_ms=5,
        )  # fmt: skip
        while True:
            try:
                await producer.start()
                break
            except Exception:
                await asyncio.sleep(1)
        try:
            pending: list[tuple[Planned, asyncio.Future[Any]]] = []
            records = iter(self.records)
            for phase in self.phases:
                start = time.monotonic()
                for i in range(phase.records):
                    if phase.rate:
                        await asyncio.sleep(max(0.0, start + i / phase.rate - time.monotonic()))
                    record = next(records)
                    pending.append((record, await self._send(producer, record)))
            while pending:
                failed = []
                for record, future in pending:
                    try:
                        await future
                    except Exception:
                        failed.append(record)
                self.resent += len(failed)
                pending = [(r, await self._send(producer, r)) for r in failed]
        finally:
            await producer.stop()

    async def _send(self, producer: AIOKafkaProducer, record: Planned) -> asyncio.Future[Any]:
        while True:
            try:
                future = await producer.send(self.topic, record.value, key=record.key)
            except Exception:
                await asyncio.sleep(0.5)
                continue
            future.add_done_callback(self._count)
            return future

    def _count(self, future: asyncio.Future[Any]) -> None:
        if not future.cancelled() and future.exception() is None:
            self.sent += 1


class Run:
    """One schedule's run; ``execute()`` returns its result."""

    def __init__(
        self, schedule: Schedule, broker: KafkaBroker, work: Path,
        say: Callable[[str], None] = print, worker_env: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        self.schedule = schedule
        self.broker = broker
        self.work = work
        self._say = say
        self.rng = random.Random(f"runtime-{schedule.seed}")
        self.name = f"chaos{schedule.seed}-{uuid.uuid4().hex[:6]}"
        env = {
            "NEWSFLOW_STAGE_TIMEOUT_S": str(schedule.stage_timeout_s),
            "NEWSFLOW_SESSION_TIMEOUT_S": str(schedule.session_timeout_s),
            "NEWSFLOW_LOG_LEVEL": "info",
            **(worker_env or {}),
        }
        self.workers = [
            WorkerProcess(broker.bootstrap, work / f"worker{i}", name=self.name,
                          partitions=schedule.partitions, extra_env=env)
            for i in range(schedule.workers)
        ]  # fmt: skip
        self.topics = self.workers[0].topics
        self.group = f"newsflow-{self.name}"
        self.probe = Probe(broker.bootstrap)
        self.records = build(schedule)
        self.expected = expected_versions(self.records)
        self.events: list[str] = []
        self.t0 = time.monotonic()
        self.last_restart: tuple[float, int] | None = None
        self.slow_injected = 0
        self.exits: list[str] = []

    # -- reporting ---------------------------------------------------------------------
    def say(self, text: str) -> None:
        line = f"[{time.monotonic() - self.t0:6.1f}s] {text}"
        self.events.append(line)
        self._say(line)

    def revive(self) -> None:
        """Start again a worker that exited by itself (a finding: the report notes it)."""
        for i, worker in enumerate(self.workers):
            if worker.proc is not None and not worker.running():
                code = worker.proc.returncode
                self.exits.append(f"worker {i} exited by itself with code {code}")
                self.say(f"worker {i} exited by itself (code {code}): started again")
                worker.spawn()

    def progress(self) -> float | None:
        self.revive()
        size = self.probe.size(self.topics["enriched"])
        return None if size is None else size / max(1, self.expected)

    # -- faults ------------------------------------------------------------------------
    def wait_progress(self, at: float, feeder: Feeder) -> None:
        best, since = -1.0, time.monotonic()
        while True:
            now = self.progress()
            if now is not None and now >= at:
                return
            if now is not None and now > best:
                best, since = now, time.monotonic()
            if feeder.done.is_set() and time.monotonic() - since > STALL_S:
                self.say(f"progress stuck at {best:.0%} (wanted {at:.0%}): firing anyway")
                return
            time.sleep(0.2)

    def kill(self, i: int, down_s: float, why: str) -> None:
        worker = self.workers[i]
        alive = worker.running()
        worker.kill()
        self.say(f"SIGKILL worker {i} ({why}){'' if alive else ' - it was not running'}")
        time.sleep(down_s)
        worker.spawn()
        self.last_restart = (time.monotonic(), i)
        self.say(f"worker {i} started again")

    def owner_of(self, partition: int) -> int | None:
        """The worker whose consumer has raw partition ``partition``."""
        for i, worker in enumerate(self.workers):
            try:
                lag = worker.get("/api/stats", timeout=3)["lag"]
            except Exception:
                continue
            if any(r["topic"] == self.topics["raw"] and r["partition"] == partition for r in lag):
                return i
        return None

    def fire(self, fault: Fault, feeder: Feeder) -> None:
        if fault.trigger in ("progress", "stage-timeout"):
            self.wait_progress(fault.at, feeder)
        progress = self.progress()
        here = f"at {progress:.0%}" if progress is not None else "broker not answering"
        if fault.action in ("broker-stop", "broker-kill"):
            t0 = time.monotonic()
            if fault.action == "broker-stop":
                self.broker.stop()
            else:
                self.broker.kill()
            verb = "stopped" if fault.action == "broker-stop" else "SIGKILLed"
            self.say(f"broker {verb} ({here}; took {time.monotonic() - t0:.1f} s)")
            time.sleep(fault.down_s)
            t1 = time.monotonic()
            self.broker.start()
            self.say(f"broker started again (ready after {time.monotonic() - t1:.1f} s)")
            return
        target = fault.worker
        why = here
        if fault.trigger == "after-restart":
            if self.last_restart is not None:
                at, last = self.last_restart
                time.sleep(max(0.0, at + fault.delay - time.monotonic()))
                target = last if target is None else target
                why = f"{time.monotonic() - at:.1f} s after its restart"
        elif fault.trigger == "rebalance":
            deadline = time.monotonic() + REBALANCE_WAIT_S
            state = None
            while time.monotonic() < deadline:
                group = self.probe.group(self.group, timeout=2)
                state = group[0] if group else None
                if state in ("PreparingRebalance", "CompletingRebalance"):
                    break
                time.sleep(0.1)
            why = f"group {state}"
        elif fault.trigger == "stage-timeout":
            assert fault.slow_page is not None
            record = slow_page(fault.slow_page, 1000 + self.slow_injected)
            self.slow_injected += 1
            self.records.append(record)
            meta = self._produce_one(record)
            time.sleep(fault.delay)
            target = self.owner_of(meta) if meta is not None else None
            why = f"{fault.delay:.1f} s after slow page {fault.slow_page} went to raw[{meta}]"
        if target is None:
            target = self.rng.randrange(len(self.workers))
        self.kill(target, fault.down_s, why)

    def _produce_one(self, record: Planned) -> int | None:
        for _ in range(20):
            try:
                metas = asyncio.run(produce(
                    self.broker.bootstrap, self.topics["raw"], [record.value], keys=[record.key],
                    max_request_size=MAX_REQUEST))  # fmt: skip
                return metas[0].partition
            except Exception:
                time.sleep(1)
        self.say("could not produce a slow page")
        return None

    def wait_all_ready(self, attempts: int = 3) -> None:
        """Every worker running and answering (one that exits meanwhile is started again)."""
        for attempt in range(attempts):
            self.revive()
            try:
                for worker in self.workers:
                    worker.wait_ready(180)
                return
            except AssertionError:
                if attempt == attempts - 1:
                    raise

    # -- quiescence --------------------------------------------------------------------
    def wait_quiescent(self) -> tuple[bool, str]:
        """No lag on any partition of the group, the group Stable, and no topic of the run nor
        any table changing for ``quiet_s``; False (with why) at ``quiesce_timeout_s``."""
        s = self.schedule
        inputs = [self.topics[r] for r in ("raw", "cleaned", "enriched", "mentions")]
        deadline = time.monotonic() + s.quiesce_timeout_s
        last: Any = None
        since = time.monotonic()
        why = ""
        while time.monotonic() < deadline:
            self.revive()
            names = self.probe.topics() or []
            mine = [n for n in names if n.startswith((self.name, self.group))]
            ends = self.probe.end_offsets(mine)
            group = self.probe.group(self.group)
            tables = [self._get(w, "/api/counts/all") for w in self.workers]
            if ends is None or group is None or any(t is None for t in tables):
                why, last = "broker or a worker not answering", None
            else:
                state, committed = group
                lag = sum(max(0, n - committed.get(tp, 0))
                          for tp, n in ends.items() if tp[0] in inputs)  # fmt: skip
                snapshot = (ends, tables)
                why = f"group {state}, lag {lag}"
                if state == "Stable" and lag == 0 and snapshot == last:
                    if time.monotonic() - since >= s.quiet_s:
                        return True, why
                else:
                    since = time.monotonic()
                last = snapshot
            time.sleep(1)
        return False, why

    @staticmethod
    def _get(worker: WorkerProcess, path: str) -> Any:
        try:
            return worker.get(path, timeout=30)
        except Exception:
            return None

    # -- observation ---------------------------------------------------------------------
    def observe(self) -> Observed:
        bootstrap = self.broker.bootstrap

        def read(role: str) -> list[Rec]:
            records = asyncio.run(read_topic(bootstrap, self.topics[role]))
            return [Rec(r.partition, r.offset, r.key, r.value) for r in records]

        tables = []
        for worker in self.workers:
            counts = worker.get("/api/counts/all", timeout=60)
            stats = worker.get("/api/stats", timeout=60)
            url = f"http://127.0.0.1:{worker.web_port}"
            tables.append(
                WorkerTables(url, stats["partitions"], counts["entities"], counts["types"])
            )
        inputs = [self.topics[r] for r in ("raw", "cleaned", "enriched", "mentions")]
        ends = self.probe.end_offsets(inputs, timeout=30) or {}
        group = self.probe.group(self.group, timeout=30)
        observed = Observed(
            topics=self.topics, partitions=self.schedule.partitions,
            raw=read("raw"), cleaned=read("cleaned"), enriched=read("enriched"),
            deadletter=read("deadletter"), tables=tables,
            committed=group[1] if group else {}, ends=ends,
        )  # fmt: skip
        self._ask_api(observed, tables)
        return observed

    def _ask_api(self, observed: Observed, tables: list[WorkerTables]) -> None:
        """Totals from the public endpoints: the top list (every worker's partitions, asked
        of worker 0) and a sample of keys, each asked of a worker in turn (so some requests
        are routed to the owner)."""
        top = self.workers[0].get("/api/entities/top?limit=1000&window=all", timeout=60)
        observed.top_complete = bool(top.get("complete"))
        keys = sorted({k for t in tables for k in t.entities})
        sample = self.rng.sample(keys, min(API_SAMPLE, len(keys)))
        rows = top["entities"]
        # A top row's total is its entity's, merged over count keys: the merged keys come
        # from the entity's own endpoint (asked for the first rows; the rest once each key).
        for i, row in enumerate(rows[:API_SAMPLE]):
            entry = self._entity(i, row["key"], "top")
            observed.api.append(("top", row["key"], row["count"], *entry[3:]))
        for i, key in enumerate(sample):
            observed.api.append(self._entity(i, key, "entity"))

    def _entity(self, i: int, key: str, endpoint: str) -> tuple[Any, ...]:
        """(endpoint, key, total, error, merged keys) from ``/api/entities/{key}``."""
        worker = self.workers[i % len(self.workers)]
        try:
            body = worker.get(f"/api/entities/{quote(key, safe='')}", timeout=30)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return (endpoint, key, 0, "", [])
            return (endpoint, key, None, f"HTTP {exc.code}", None)
        except Exception as exc:
            return (endpoint, key, None, repr(exc)[:200], None)
        members = [(m["key"], int(m["count"])) for m in body.get("keys") or []] or None
        return (endpoint, key, body["total"], "", members)

    def unproduced(self, observed: Observed) -> int:
        """Planned records not in the raw topic (a harness failure, not the pipeline's)."""

        def digest(key: bytes | None, value: bytes | None) -> tuple[bytes | None, str | None]:
            return key, None if value is None else hashlib.sha1(value).hexdigest()

        want = Counter(digest(r.key, r.value) for r in self.records)
        got = Counter(digest(r.key, r.value) for r in observed.raw)
        return sum((want - got).values())

    # -- the run -------------------------------------------------------------------------
    def execute(self) -> RunResult:
        # The harness's own clients (feeder, probe) back off too: without it the feeder's
        # producer spins through every broker stop (docs/fault-tolerance.md, "Broker outage")
        # and takes a core from the workers under test.
        kafka_backoff.install()
        try:
            return self._execute()
        finally:
            kafka_backoff.uninstall()

    def _execute(self) -> RunResult:
        s = self.schedule
        self.say(f"cluster {self.name} on {self.broker.bootstrap}; work dir {self.work}")
        asyncio.run(create_topic(self.broker.bootstrap, self.topics["raw"], s.partitions,
                                 RAW_TOPIC_CONFIG))  # fmt: skip
        for worker in self.workers:
            worker.spawn()
        self.wait_all_ready()
        self.say(f"{len(self.workers)} workers up; producing {len(self.records)} records"
                 f" ({self.expected} versions to enrich)")  # fmt: skip
        feeder = Feeder(self.broker.bootstrap, self.topics["raw"], list(self.records), s.phases)
        feeder.start()
        report: Report | None = None
        try:
            for fault in s.faults:
                self.fire(fault, feeder)
            feeder.done.wait()
            if feeder.error is not None:
                raise RuntimeError(f"the feeder failed: {feeder.error!r}")
            self.say(f"all records produced ({feeder.resent} sent again after a failed send)")
            self.wait_all_ready()
            quiet, why = self.wait_quiescent()
            self.say(("quiescent: " if quiet else "NOT quiescent: ") + why)
            observed = self.observe()
            report = check(observed)
            report.quiescent = quiet
            report.unproduced = self.unproduced(observed)
            report.notes += self.exits
            if not quiet:
                report.notes.append(f"no quiescence within {s.quiesce_timeout_s:.0f} s ({why})")
        finally:
            if not self.broker.is_running():
                self.broker.start()
            for worker in self.workers:
                worker.stop()
            self.probe.close()
        return RunResult(s, report, self.events, time.monotonic() - self.t0, self.work)


def run(
    schedule: Schedule,
    broker: KafkaBroker,
    work: Path,
    say: Callable[[str], None] = print,
    worker_env: dict[str, str] | None = None,
) -> RunResult:
    """Run ``schedule`` against ``broker`` (which it stops, kills and restarts) in ``work``;
    ``worker_env`` adds to the workers' environment."""
    return Run(schedule, broker, work, say, worker_env).execute()
