"""Fault runs against a real broker: SIGKILL the worker and/or stop the broker while pages flow,
then check that nothing was lost and every count equals an offline recount.

Used by the quick CI tests (``tests/test_faults_crash.py``) and the full run
(``scripts/fault_run.py``), so both measure the same thing.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from tests.helpers.kafka import create_topic, produce
from tests.helpers.worker import WorkerProcess
from workers.bench.corpus import generate_pages
from workers.brokers.kafka import KafkaBroker
from workers.clean import clean_page
from workers.contracts import content_hash, decode_raw
from workers.extract import get_extractor
from workers.extract.record import mention_counts
from workers.identity import Identity


def fault_corpus(n: int, seed: int = 11) -> list[dict[str, Any]]:
    """``n`` generated pages plus re-crawls, in produce order: every 10th page is produced
    again unchanged (an exact re-crawl) and every 10th+5 again with new content, half of them
    right after the original (same commit window) and half much later."""
    pages = list(generate_pages(n, seed=seed, kind="mixed"))
    out: list[dict[str, Any]] = []
    later: list[dict[str, Any]] = []
    for i, page in enumerate(pages):
        out.append(page)
        again: dict[str, Any] | None = None
        if i % 10 == 0:
            again = dict(page)
        elif i % 10 == 5:
            body = page["body"]
            extra = pages[(i + 1) % n]["body"][:200].replace("<", " ")
            cut = body.rfind("。", 0, len(body) // 2) + 1 or len(body) // 2
            again = {**page, "body": body[:cut] + extra + body[cut:]}
        if again is not None:
            (out if i % 20 < 10 else later).append(again)
    return out + later


def offline_recount(pages: list[dict[str, Any]]) -> tuple[Counter[str], Counter[str], set[Any]]:
    """(entity totals, type totals, {(id, content hash)} every version) from the pure stage
    functions: the last version produced per id is the one counted (the re-crawl rule)."""
    extract = get_extractor()
    # Keys from the article and the known-name tables alone: the fault workers run without
    # learning aliases (run_faults), so their keys do not depend on the order they read in.
    identity = Identity(learn=False)
    final: dict[str, dict[str, int]] = {}
    versions: set[tuple[str, str]] = set()
    cache: dict[str, dict[str, int]] = {}
    for page in pages:
        raw = decode_raw(orjson.dumps(page), 1 << 30)
        h = content_hash(raw["body"])
        versions.add((raw["id"], h))
        if h not in cache:
            text = clean_page(raw["body"], raw.get("content_type")).text
            cache[h] = mention_counts(identity.entities(text, extract.rows(text))[0])
        final[raw["id"]] = cache[h]
    entities: Counter[str] = Counter()
    for mentions in final.values():
        entities.update(mentions)
    types: Counter[str] = Counter()
    for key, n in entities.items():
        types[key.partition(":")[0]] += n
    return +entities, +types, versions


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    """The topic's partitions from a fresh all-topics metadata request (never auto-creates)."""
    cluster = await consumer._client.fetch_all_metadata()
    parts = cluster.partitions_for_topic(topic)
    if not parts:
        raise AssertionError(f"topic {topic} not found")
    return set(parts)


async def _end_offsets(bootstrap: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await consumer.start()
    try:
        parts = await _partitions(consumer, topic)
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in parts])
        return sum(ends.values())
    finally:
        await consumer.stop()


def topic_size(bootstrap: str, topic: str) -> int | None:
    """Records in ``topic`` (sum of high watermarks), None while the broker does not answer."""
    try:
        return asyncio.run(asyncio.wait_for(_end_offsets(bootstrap, topic), 15))
    except Exception:
        return None


READ_ALL_TIMEOUT_S = 180.0


async def _read_all(bootstrap: str, topic: str) -> list[Any]:
    # earliest: without it the assignment's "latest" reset can race seek_to_beginning and the
    # read starts at the end (it then found nothing, which looked like lost records).
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=16 << 20,
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in await _partitions(consumer, topic)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        await consumer.seek_to_beginning(*tps)
        out: list[Any] = []
        # Progress from the records themselves: position() may run ahead while records are
        # prefetched. Only when a fetch returns nothing is position() exact, and then a
        # partition whose last offsets hold no record (a gap) counts as read to its end.
        # A read that cannot finish fails loudly: a silent partial read would look like loss.
        done = {tp: 0 for tp in tps}
        deadline = time.monotonic() + READ_ALL_TIMEOUT_S
        while any(done[tp] < ends[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read {topic} to its end: at {done}, end {ends}")
            batch = await consumer.getmany(timeout_ms=1000)
            for tp, records in batch.items():
                out.extend(orjson.loads(r.value) for r in records if r.value is not None)
                if records:
                    done[tp] = records[-1].offset + 1
            if not batch:
                for tp in tps:
                    if done[tp] < ends[tp] and await consumer.position(tp) >= ends[tp]:
                        done[tp] = ends[tp]
        return out
    finally:
        await consumer.stop()


def read_all(bootstrap: str, topic: str) -> list[Any]:
    """Every JSON value in ``topic`` right now."""
    return asyncio.run(_read_all(bootstrap, topic))


@dataclass
class FaultReport:
    """The figures of one run (the table the script prints)."""

    records: int
    kills: int = 0
    broker_stops: int = 0
    lost: int = 0
    lost_ids: list[str] = field(default_factory=list)
    enriched: int = 0
    duplicates: int = 0
    deadletters: int = 0
    count_mismatches: int = 0
    mismatched: list[tuple[str, int, int]] = field(default_factory=list)
    recovery_s: list[float] = field(default_factory=list)
    broker_recovery_s: list[float] = field(default_factory=list)
    run_s: float = 0.0

    def rows(self) -> list[tuple[str, str]]:
        def secs(xs: list[float]) -> str:
            return ", ".join(f"{x:.1f}" for x in xs) or "-"

        return [
            ("records produced", str(self.records)),
            ("worker kills (SIGKILL)", str(self.kills)),
            ("broker stops", str(self.broker_stops)),
            ("lost (versions neither enriched nor dead-lettered)", str(self.lost)),
            ("enriched records", str(self.enriched)),
            ("duplicates in enriched (replays)", str(self.duplicates)),
            ("dead letters", str(self.deadletters)),
            ("count mismatches (keys)", str(self.count_mismatches)),
            ("recovery after kill, s (restart -> output again)", secs(self.recovery_s)),
            ("recovery after broker start, s", secs(self.broker_recovery_s)),
            ("wall time, s", f"{self.run_s:.0f}"),
        ]

    def table(self) -> str:
        width = max(len(k) for k, _ in self.rows())
        lines = [f"| {'figure':<{width}} | value |", f"|{'-' * (width + 2)}|-------|"]
        lines += [f"| {k:<{width}} | {v} |" for k, v in self.rows()]
        return "\n".join(lines)


def _wait_progress(bootstrap: str, topic: str, target: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        size = topic_size(bootstrap, topic)
        if size is not None and size >= target:
            return
        time.sleep(0.2)
    raise AssertionError(f"{topic} did not reach {target} records within {timeout} s")


def _time_to_output(
    bootstrap: str, topic: str, since: float, timeout: float = 300.0, start: int | None = None
) -> float:
    """Seconds from ``since`` until ``topic`` grows past ``start`` (default: its size now),
    i.e. until the worker produces again."""
    while start is None:
        start = topic_size(bootstrap, topic)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        size = topic_size(bootstrap, topic)
        if size is not None and size > start:
            return time.monotonic() - since
        time.sleep(0.1)
    raise AssertionError(f"{topic} did not grow within {timeout} s")


def run_faults(
    bootstrap: str,
    data_dir: Path,
    pages: list[dict[str, Any]],
    kills: int = 0,
    broker: KafkaBroker | None = None,
    broker_stop_s: float = 0.0,
    partitions: int = 2,
    seed: int = 1,
    settle_timeout: float = 600.0,
    expected: tuple[Counter[str], Counter[str], set[Any]] | None = None,
    worker_env: dict[str, str] | None = None,
) -> FaultReport:
    """Produce ``pages`` (keyed by id), run a worker through ``kills`` SIGKILLs at random
    moments (and one broker stop when ``broker`` is given), wait until it settles, check."""
    rng = random.Random(seed)
    t_start = time.monotonic()
    ent_expected, type_expected, versions = expected or offline_recount(pages)
    report = FaultReport(records=len(pages))
    # Learning aliases makes a key depend on which articles came before (docs/entity-identity
    # .md); a crash changes that order, so the exact recount is made with learning off.
    env = {"NEWSFLOW_LEARN_ALIASES": "0", **(worker_env or {})}
    worker = WorkerProcess(bootstrap, data_dir, partitions=partitions, extra_env=env)
    topics = worker.topics
    asyncio.run(create_topic(bootstrap, topics["raw"], partitions))
    # With a broker stop, the last pages are produced only once the broker is back: the worker
    # must then reconnect to take them, even when it had finished the rest before the stop.
    held = pages[len(pages) - max(10, len(pages) // 20) :] if broker is not None else []
    upfront = pages[: len(pages) - len(held)]
    asyncio.run(produce(bootstrap, topics["raw"], upfront, keys=[p["id"] for p in upfront]))
    good = len(versions)
    upfront_good = good - len(held)  # at least this many versions are in the upfront pages
    # Random moments, as fractions of the output: kills first, then the broker stop.
    moments = sorted(rng.uniform(0.1, 0.8) for _ in range(kills))
    broker_at = rng.uniform(0.3, 0.7) if broker is not None else None
    worker.start()
    try:
        for fraction in moments:
            _wait_progress(bootstrap, topics["enriched"], int(good * fraction), settle_timeout)
            worker.kill()
            report.kills += 1
            t0 = time.monotonic()
            worker.start()
            report.recovery_s.append(_time_to_output(bootstrap, topics["enriched"], t0))
        if broker is not None and broker_at is not None:
            done = topic_size(bootstrap, topics["enriched"]) or 0
            target = min(max(done + 1, int(good * broker_at)), upfront_good)
            _wait_progress(bootstrap, topics["enriched"], target, settle_timeout)
            broker.stop()
            report.broker_stops += 1
            time.sleep(broker_stop_s)
            broker.start()
            t0 = time.monotonic()
            start = topic_size(bootstrap, topics["enriched"])
            asyncio.run(produce(bootstrap, topics["raw"], held, keys=[p["id"] for p in held]))
            report.broker_recovery_s.append(
                _time_to_output(bootstrap, topics["enriched"], t0, start=start)
            )
        _settle(worker, ent_expected, type_expected, settle_timeout)
        _check(report, bootstrap, worker, pages, ent_expected, type_expected, versions)
    finally:
        worker.stop()
    report.run_s = time.monotonic() - t_start
    return report


def _settle(
    worker: WorkerProcess, expected: Counter[str], type_expected: Counter[str], timeout: float
) -> None:
    """Until the tables equal the recount, or stop changing for 20 s (then _check tells).

    Both tables: a type key lives in its own partition of the mentions topic, so its last
    changes can be applied a batch after the entity keys' (one run read LOCATION 12 short
    right after the entity counts matched)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    stable_since = time.monotonic()
    while time.monotonic() < deadline:
        try:
            body = worker.get("/api/counts/all", timeout=30)
        except OSError:
            time.sleep(1)
            continue
        types = {k: n for k, n in body["types"].items() if n}
        if body["entities"] == dict(expected) and types == +type_expected:
            return
        if body != last:
            last, stable_since = body, time.monotonic()
        elif time.monotonic() - stable_since > 20:
            return
        time.sleep(1)


def _check(
    report: FaultReport,
    bootstrap: str,
    worker: WorkerProcess,
    pages: list[dict[str, Any]],
    ent_expected: Counter[str],
    type_expected: Counter[str],
    versions: set[Any],
) -> None:
    enriched = read_all(bootstrap, worker.topics["enriched"])
    dead = read_all(bootstrap, worker.topics["deadletter"])
    seen = Counter((r["id"], r["content_hash"]) for r in enriched)
    dead_ids = {d["source"]["key"] for d in dead}
    report.enriched = len(enriched)
    report.duplicates = sum(n - 1 for n in seen.values())
    report.deadletters = len(dead)
    missing = [v for v in versions if v not in seen and v[0] not in dead_ids]
    report.lost = len(missing)
    report.lost_ids = sorted(v[0] for v in missing)[:20]
    body = worker.get("/api/counts/all", timeout=30)
    got = Counter(body["entities"])
    keys = set(got) | set(ent_expected)
    bad = sorted((k, ent_expected.get(k, 0), got.get(k, 0))
                 for k in keys if got.get(k, 0) != ent_expected.get(k, 0))  # fmt: skip
    got_types = Counter(body["types"])
    bad += sorted((k, type_expected.get(k, 0), got_types.get(k, 0))
                  for k in set(got_types) | set(type_expected)
                  if got_types.get(k, 0) != type_expected.get(k, 0))  # fmt: skip
    report.count_mismatches = len(bad)
    report.mismatched = bad[:20]
