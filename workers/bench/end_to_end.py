"""The end-to-end half of the benchmark: ``newsflow worker`` processes on a real Kafka broker.

Why subprocesses: a worker is measured the way it runs in production (its own interpreter,
pinned to a core with ``taskset``), and its RSS and CPU time come from ``/proc`` untouched by
the bench's own work. The backlog is produced before the workers start, so the throughput run
measures the worker, not the producer.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from workers.bench.inprocess import Rates, ratio
from workers.brokers.common import free_port
from workers.settings import Settings

CLK_TCK = os.sysconf("SC_CLK_TCK")
PR_SET_PDEATHSIG = 1
_started: list[Worker] = []


def _die_with_parent() -> None:
    """In the child: SIGTERM when the bench dies, even by SIGKILL (no orphaned workers)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@atexit.register
def stop_all() -> None:
    """Stop every worker this process started and has not stopped yet."""
    for w in list(_started):
        w.stop()


def log(msg: str) -> None:
    """Progress on stderr, so the table on stdout stays clean."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _stat_cpu(pid: int) -> tuple[float, float]:
    """(utime + stime, cutime + cstime) of a process in seconds; zeros once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    own = int(fields[11]) + int(fields[12])
    reaped = int(fields[13]) + int(fields[14])
    return own / CLK_TCK, reaped / CLK_TCK


def _proc_kb(pid: int, name: str, field_name: str) -> int:
    """A ``Field: N kB`` value of ``/proc/PID/<name>`` (status, smaps_rollup); 0 when gone."""
    try:
        for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(root: int) -> list[int]:
    """Live descendant pids of ``root`` (a /proc scan by parent pid)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


@dataclass(frozen=True)
class Deployment:
    """One set of topics and one consumer group: a fresh pipeline on the shared broker."""

    bootstrap: str
    workdir: Path
    partitions: int = 4
    name: str = field(default_factory=lambda: f"b{uuid.uuid4().hex[:8]}")

    def settings(self) -> Settings:
        n = self.name
        return Settings(
            app_id=f"newsflow-{n}",
            broker=f"kafka://{self.bootstrap}",
            raw_topics=[f"{n}.raw"],
            cleaned_topic=f"{n}.cleaned",
            enriched_topic=f"{n}.enriched",
            deadletter_topic=f"{n}.deadletter",
            mentions_topic=f"{n}-mentions",
            partitions=self.partitions,
        )

    def env(self, index: int, web_port: int) -> dict[str, str]:
        s = self.settings()
        env = dict(os.environ)
        env.update(
            NEWSFLOW_APP_ID=s.app_id,
            NEWSFLOW_BROKER=s.broker,
            NEWSFLOW_RAW_TOPICS=s.raw_topics[0],
            NEWSFLOW_CLEANED_TOPIC=s.cleaned_topic,
            NEWSFLOW_ENRICHED_TOPIC=s.enriched_topic,
            NEWSFLOW_DEADLETTER_TOPIC=s.deadletter_topic,
            NEWSFLOW_MENTIONS_TOPIC=s.mentions_topic,
            NEWSFLOW_PARTITIONS=str(self.partitions),
            NEWSFLOW_DATA_DIR=str(self.workdir / f"data-{self.name}-{index}"),
            NEWSFLOW_WEB_PORT=str(web_port),
            NEWSFLOW_LOG_LEVEL="warning",
        )
        return env


@dataclass
class Worker:
    """``newsflow worker`` as a child process, optionally pinned to CPUs with taskset."""

    deployment: Deployment
    index: int = 0
    cpus: str | None = None
    web_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0

    @property
    def log_file(self) -> Path:
        return self.deployment.workdir / f"worker-{self.deployment.name}-{self.index}.log"

    def start(self) -> Worker:
        cmd = [sys.executable, "-m", "workers.cli", "worker"]
        if self.cpus is not None and shutil.which("taskset"):
            cmd = ["taskset", "-c", self.cpus, *cmd]
        self.deployment.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as out:
            self.started_at = time.time()
            self.proc = subprocess.Popen(
                cmd, env=self.deployment.env(self.index, self.web_port),
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
            )  # fmt: skip
        _started.append(self)
        return self

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Until the web API answers (the app is up; partitions may still be assigning)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                self.stats()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"worker not up within {timeout} s:\n{self.tail_log()}")

    def check_alive(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            code = None if self.proc is None else self.proc.returncode
            raise RuntimeError(f"worker exited ({code}):\n{self.tail_log()}")

    def stats(self) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.web_port}/api/stats?scope=local"
        with urllib.request.urlopen(url, timeout=5) as resp:
            body: dict[str, Any] = orjson.loads(resp.read())
            return body

    def counted(self) -> int:
        """Enriched records the count stage of this worker has taken in so far."""
        try:
            return int(self.stats()["records_in"]["count"])
        except (OSError, KeyError, ValueError):
            return 0

    def pids(self) -> list[int]:
        """The worker and its live descendants (the guarded stage processes do the clean and
        extract work, so the worker process alone leaves most of the CPU and memory out)."""
        assert self.proc is not None
        return [self.proc.pid, *_descendants(self.proc.pid)]

    def rss_mb(self) -> float:
        """Resident memory of the worker and its stage processes together (MB)."""
        return sum(_proc_kb(pid, "status", "VmRSS") for pid in self.pids()) / 1024

    def main_rss_mb(self) -> float:
        """Resident memory of the worker process alone (MB): Faust, Kafka buffers, tables."""
        assert self.proc is not None
        return _proc_kb(self.proc.pid, "status", "VmRSS") / 1024

    def pss_mb(self) -> float:
        """Proportional set size of the worker and its stage processes (MB): like RSS, but a
        page shared by several of them (libraries, the Sudachi dictionary) counts once."""
        return sum(_proc_kb(pid, "smaps_rollup", "Pss") for pid in self.pids()) / 1024

    def main_cpu_s(self) -> float:
        """User + system CPU seconds of the worker process alone (Faust, Kafka, count)."""
        assert self.proc is not None
        return _stat_cpu(self.proc.pid)[0]

    def cpu_s(self) -> float:
        """User + system CPU seconds of the worker, its live stage processes and those it has
        reaped (a stage process restarted after a timeout keeps counting)."""
        assert self.proc is not None
        own, reaped = _stat_cpu(self.proc.pid)
        return own + reaped + sum(_stat_cpu(pid)[0] for pid in _descendants(self.proc.pid))

    def stop(self, timeout: float = 30.0) -> None:
        if self in _started:
            _started.remove(self)
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def tail_log(self, lines: int = 40) -> str:
        if not self.log_file.exists():
            return "(no log)"
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])


async def create_topics(deployment: Deployment) -> None:
    from workers.runtime.admin import ensure_topics

    await ensure_topics(deployment.bootstrap, deployment.settings())


async def delete_topics(deployment: Deployment) -> list[str]:
    """Delete the topics of ``deployment`` (all named after it: its own, its tables' changelogs,
    Faust's internal ones); returns their names.

    Why: on a long-lived broker (``--bootstrap``) every run left its topics behind, about 3.5 GB
    per 100,000 pages, until the broker's disk was full.
    """
    from aiokafka.admin import AIOKafkaAdminClient

    n = deployment.name
    prefixes = (f"{n}.", f"{n}-", f"newsflow-{n}-")
    admin = AIOKafkaAdminClient(bootstrap_servers=deployment.bootstrap)
    await admin.start()
    try:
        mine = sorted(t for t in await admin.list_topics() if t.startswith(prefixes))
        if mine:
            await admin.delete_topics(mine)
        return mine
    finally:
        await admin.close()


async def produce(
    bootstrap: str,
    topic: str,
    pages: Iterable[dict[str, Any]],
    rate: float | None = None,
    label: str = "produce",
) -> int:
    """Send pages keyed by id; with ``rate`` (pages/s) paced evenly, else as fast as possible."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks=1, linger_ms=0 if rate else 20,
        max_request_size=16 * 1024 * 1024, max_batch_size=1024 * 1024,
    )  # fmt: skip
    await producer.start()
    sent, pending = 0, []
    t0 = last = time.monotonic()
    try:
        for page in pages:
            if rate:
                delay = t0 + sent / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            pending.append(await producer.send(topic, orjson.dumps(page), key=page["id"].encode()))
            sent += 1
            if len(pending) >= 2000:
                await asyncio.gather(*pending)
                pending.clear()
            if time.monotonic() - last > 5:
                last = time.monotonic()
                log(f"{label}: {sent} pages sent")
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent


async def read_enriched(
    bootstrap: str, topic: str, ids: set[str] | None = None, timeout: float = 60.0
) -> dict[str, dict[str, Any]]:
    """id -> {timestamps, chars} for every record on the enriched topic (restricted to ``ids``),
    reading until all of ``ids`` are there (or the topic's end when ``ids`` is None)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest",
        max_partition_fetch_bytes=8 * 1024 * 1024, fetch_max_bytes=64 * 1024 * 1024,
    )  # fmt: skip
    out: dict[str, dict[str, Any]] = {}
    await consumer.start()
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        while not parts:
            await consumer._client.force_metadata_update()
            parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ids is not None and ids.issubset(out):
                break
            if ids is None and all([await consumer.position(tp) >= ends[tp] for tp in tps]):
                break
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            for records in batch.values():
                for r in records:
                    rec = orjson.loads(r.value)
                    if ids is None or rec["id"] in ids:
                        out[rec["id"]] = {"ts": rec["timestamps"], "chars": len(rec["text"])}
        return out
    finally:
        await consumer.stop()


@dataclass
class RunResult(Rates):
    """What one end-to-end run measured."""

    label: str
    workers: int
    pages: int
    chars: int
    wall_s: float
    cpu_s: float
    rss_start_mb: list[float]
    rss_end_mb: list[float]
    rss_samples_mb: list[float] = field(default_factory=list)
    main_cpu_s: float = 0.0
    #: (pages counted, RSS MB, PSS MB, worker process RSS MB) when the run passed every tenth
    #: of its pages
    memory_track: list[tuple[int, float, float, float]] = field(default_factory=list)


def _poll(workers: Sequence[Worker]) -> list[dict[str, Any]]:
    out = []
    for w in workers:
        w.check_alive()
        try:
            out.append(w.stats())
        except OSError:
            out.append({})
    return out


def wait_assigned(
    workers: Sequence[Worker], partitions: int, settle_s: float = 3.0, timeout: float = 180.0
) -> float:
    """Block until every worker holds partitions, together they hold all, and that has not
    changed for ``settle_s`` (Faust often rebalances twice on a join). Returns the epoch time."""
    deadline = time.monotonic() + timeout
    seen: list[tuple[int, ...]] | None = None
    since = time.monotonic()
    while time.monotonic() < deadline:
        held = [tuple(s.get("partitions") or ()) for s in _poll(workers)]
        if held != seen:
            seen, since = held, time.monotonic()
        elif (
            all(held) and sum(map(len, held)) == partitions and time.monotonic() - since >= settle_s
        ):
            return time.time()
        time.sleep(0.2)
    raise RuntimeError(f"workers did not settle on {partitions} partitions within {timeout} s")


def _memory_point(
    workers: Sequence[Worker], done: int, rss: float
) -> tuple[int, float, float, float]:
    pss = sum(w.pss_mb() for w in workers)
    return done, rss, pss, sum(w.main_rss_mb() for w in workers)


def wait_counted(
    workers: Sequence[Worker],
    n: int,
    label: str,
    timeout: float,
    stall_s: float = 90.0,
    track: list[tuple[int, float, float, float]] | None = None,
) -> list[float]:
    """Block until the count stage has taken in ``n`` records and no worker lags on any topic
    (the pipeline is idle again); RSS samples (MB, summed over workers) on the way, and in
    ``track`` (pages, RSS, PSS, worker process RSS) at each tenth of the run. Fails when
    nothing moves for ``stall_s`` (a stuck worker should end the run, not hang it)."""
    deadline = time.monotonic() + timeout
    last_log, rss, idle = 0.0, [], 0
    last_done, moved = -1, time.monotonic()
    marks = [n * i // 10 for i in range(10)]
    while True:
        stats = _poll(workers)
        rss.append(sum(w.rss_mb() for w in workers))
        done = sum(int((s.get("records_in") or {}).get("count", 0)) for s in stats)
        lag = sum(int(s.get("lag_total") or 0) for s in stats)
        if track is not None and marks and done >= marks[0]:
            while marks and done >= marks[0]:
                marks.pop(0)
            track.append(_memory_point(workers, done, rss[-1]))
        idle = idle + 1 if done >= n and lag == 0 and all(stats) else 0
        if idle >= 2:
            if track is not None:
                track.append(_memory_point(workers, done, rss[-1]))
            return rss
        if done != last_done:
            last_done, moved = done, time.monotonic()
        if time.monotonic() - last_log > 5:
            last_log = time.monotonic()
            log(f"{label}: {done}/{n} pages through the pipeline (lag {lag})")
        if time.monotonic() > deadline or time.monotonic() - moved > stall_s:
            per_worker = [
                ((s.get("records_in") or {}).get("count"), s.get("lag_total"), s.get("partitions"))
                for s in stats
            ]
            raise RuntimeError(
                f"{label}: stuck at {done}/{n} pages; per worker (count, lag, partitions): "
                f"{per_worker}; logs in {workers[0].deployment.workdir}"
            )
        time.sleep(0.5)


async def throughput_run(
    bootstrap: str,
    workdir: Path,
    pages: Sequence[dict[str, Any]],
    cpus: Sequence[str | None],
    partitions: int,
    label: str,
    timeout: float,
) -> tuple[RunResult, Deployment, list[Worker]]:
    """``len(cpus)`` workers drain a backlog of ``pages``; the workers are left running.

    Workers start one after another (two starting at once race to create the changelog
    topics) and the backlog is produced once the group holds all partitions: a worker that
    joined a group busy with a backlog was seen stalling in table recovery, and start-up and
    rebalancing are not what this row measures (restart time has its own row).
    """
    dep = Deployment(bootstrap, workdir, partitions)
    await create_topics(dep)
    workers = []
    for i, cpu_list in enumerate(cpus):
        workers.append(Worker(dep, i, cpu_list).start())
        await asyncio.to_thread(workers[-1].wait_ready)
    t_ready = await asyncio.to_thread(wait_assigned, workers, partitions)
    log(f"{label}: producing the backlog of {len(pages)} pages")
    await produce(bootstrap, dep.settings().raw_topics[0], pages, label=label)
    rss_start = [w.rss_mb() for w in workers]
    cpu0 = [w.cpu_s() for w in workers]
    main0 = [w.main_cpu_s() for w in workers]
    track: list[tuple[int, float, float, float]] = []
    rss = await asyncio.to_thread(wait_counted, workers, len(pages), label, timeout, track=track)
    cpu = sum(w.cpu_s() - c for w, c in zip(workers, cpu0, strict=True))
    recs = await read_enriched(bootstrap, dep.settings().enriched_topic, {p["id"] for p in pages})
    window = [r for r in recs.values() if r["ts"]["cleaned"] >= t_ready]
    first = min(r["ts"]["cleaned"] for r in window)
    last = max(r["ts"]["enriched"] for r in window)
    result = RunResult(
        label, len(workers), len(window), sum(r["chars"] for r in window), last - first,
        cpu, rss_start, [w.rss_mb() for w in workers], rss,
        sum(w.main_cpu_s() - c for w, c in zip(workers, main0, strict=True)), track,
    )  # fmt: skip
    log(
        f"{label}: {result.pages_per_s:.1f} pages/s, {result.chars_per_s:,.0f} chars/s "
        f"({len(recs) - len(window)} pages outside the window)"
    )
    return result, dep, workers


@dataclass(frozen=True)
class PacedLoad:
    """What the workers spent while pages came at a fixed rate (the latency phase).

    Why it is printed: a worker fed one page at a time spends about twice the CPU per page it
    spends draining a backlog (every hop, stage call and send is then per page, not per
    batch), so "half the drained maximum" can load its core far more than half.
    """

    pages: int
    wall_s: float
    cpu_s: float
    main_cpu_s: float

    @property
    def core_share(self) -> float:
        """CPU seconds per wall second of the worker processes (1.0 = one core busy)."""
        return ratio(self.cpu_s, self.wall_s)

    @property
    def ms_per_page(self) -> float:
        return ratio(1000 * self.cpu_s, self.pages)

    @property
    def main_ms_per_page(self) -> float:
        return ratio(1000 * self.main_cpu_s, self.pages)


async def latency_run(
    dep: Deployment,
    pages: Sequence[dict[str, Any]],
    rate: float,
    timeout: float,
    workers: Sequence[Worker] = (),
) -> tuple[list[float], PacedLoad]:
    """Pages paced at ``rate`` into a running pipeline: produce -> enriched seconds per page,
    and the CPU the ``workers`` spent meanwhile."""
    log(f"latency: {len(pages)} pages at {rate:.1f} pages/s")
    cpu0 = sum(w.cpu_s() for w in workers)
    main0 = sum(w.main_cpu_s() for w in workers)
    t0 = time.monotonic()
    await produce(dep.bootstrap, dep.settings().raw_topics[0], pages, rate=rate, label="latency")
    recs = await read_enriched(
        dep.bootstrap, dep.settings().enriched_topic, {p["id"] for p in pages}, timeout
    )
    load = PacedLoad(
        len(pages),
        time.monotonic() - t0,
        sum(w.cpu_s() for w in workers) - cpu0,
        sum(w.main_cpu_s() for w in workers) - main0,
    )
    return sorted(r["ts"]["enriched"] - r["ts"]["produced"] for r in recs.values()), load


async def restart_run(worker: Worker, page: dict[str, Any], timeout: float = 120.0) -> float:
    """Stop the worker, queue one page, start it again: seconds from the new process's start
    to that page enriched (table recovery from the local store and changelogs included)."""
    dep = worker.deployment
    await asyncio.to_thread(worker.stop)
    await produce(dep.bootstrap, dep.settings().raw_topics[0], [page], label="restart")
    worker.start()
    recs = await read_enriched(dep.bootstrap, dep.settings().enriched_topic, {page["id"]}, timeout)
    return float(recs[page["id"]]["ts"]["enriched"]) - worker.started_at


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]
