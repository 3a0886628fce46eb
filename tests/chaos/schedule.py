"""A fault schedule, drawn at random from a seed (or a preset): what is produced, how fast, and
which faults land when. The same seed and preset give the same schedule, byte for byte, so a
failing run can be replayed (the system's own timing, of course, is never the same twice).
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import Any, Literal

from tests.helpers.bad_inputs import bad_inputs

Action = Literal["kill", "broker-stop", "broker-kill"]
#: progress: when this fraction of the expected enriched versions is in the enriched topic;
#: after-restart: ``at`` seconds after the last worker restart (while it starts up and recovers);
#: rebalance: as soon as the group is rebalancing (state not Stable), e.g. after a restart;
#: stage-timeout: ``at`` seconds after a slow page was produced, on the worker that owns its
#: partition (a stage child busy past, or close to, NEWSFLOW_STAGE_TIMEOUT_S).
Trigger = Literal["progress", "after-restart", "rebalance", "stage-timeout"]
PRESETS = ("random", "issue15", "ci", "full")
FOLLOW_UPS: list[Trigger] = ["after-restart", "rebalance"]
BROKER_FAULTS: list[Action] = ["broker-stop", "broker-kill"]


@dataclass(frozen=True)
class Phase:
    """``records`` produced back to back (``rate`` None: a burst) or ``rate`` records/s."""

    records: int
    rate: float | None


@dataclass(frozen=True)
class Fault:
    action: Action
    trigger: Trigger
    #: progress fraction at which a progress or stage-timeout trigger starts
    at: float = 0.0
    #: seconds after the last restart (after-restart) or after the slow page (stage-timeout)
    delay: float = 0.0
    #: the worker to kill (0 or 1); None: chosen when it fires (the slow page's owner, or the
    #: worker restarted last)
    worker: int | None = None
    #: seconds the worker (restart delay) or the broker stays down
    down_s: float = 2.0
    #: the slow page produced for a stage-timeout trigger (a bad-input kind)
    slow_page: str | None = None

    def describe(self) -> str:
        who = f"worker {self.worker}" if self.worker is not None else "worker (at run time)"
        what = {
            "kill": f"SIGKILL {who}, restart after {self.down_s:.1f} s",
            "broker-stop": f"stop the broker for {self.down_s:.1f} s",
            "broker-kill": f"SIGKILL the broker, start it after {self.down_s:.1f} s",
        }[self.action]
        when = {
            "progress": f"at {self.at:.0%} of the versions enriched",
            "after-restart": f"{self.delay:.1f} s after the last restart",
            "rebalance": "while the group rebalances",
            "stage-timeout": f"{self.delay:.1f} s after producing slow page {self.slow_page}"
            f" at {self.at:.0%}",
        }[self.trigger]
        return f"{what}, {when}"


@dataclass(frozen=True)
class Schedule:
    seed: int
    preset: str
    pages: int
    #: re-crawls: (kind, how many); kinds: "same" (exact copy), "new" (new content, same id),
    #: "back" (new content, then the first content again: two records)
    recrawls: dict[str, int]
    #: bad-input kind names mixed into the stream, in no particular order (repeats allowed)
    bad: tuple[str, ...]
    #: slow pages mixed into the stream besides those of stage-timeout faults
    slow: tuple[str, ...]
    phases: tuple[Phase, ...]
    faults: tuple[Fault, ...]
    stage_timeout_s: float = 10.0
    session_timeout_s: float = 10.0
    partitions: int = 4
    workers: int = 2
    #: quiescence: no lag and no new output for this long ...
    quiet_s: float = 12.0
    #: ... within this long after the last fault and record, or the run fails
    quiesce_timeout_s: float = 300.0

    def describe(self) -> str:
        recrawls = ", ".join(f"{n} {k}" for k, n in self.recrawls.items())
        phases = ", ".join(
            f"{p.records} at once" if p.rate is None else f"{p.records} at {p.rate:g}/s"
            for p in self.phases
        )
        lines = [
            f"seed {self.seed}, preset {self.preset}: {self.pages} pages, re-crawls ({recrawls}),"
            f" {len(self.bad)} bad records ({len(set(self.bad))} kinds),"
            f" {len(self.slow)} slow pages in the stream",
            f"  production: {phases}",
            f"  {self.workers} workers, {self.partitions} partitions, stage timeout"
            f" {self.stage_timeout_s:g} s, session timeout {self.session_timeout_s:g} s",
        ]
        lines += [f"  fault {i + 1}: {f.describe()}" for i, f in enumerate(self.faults)]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def record_count(pages: int, recrawls: dict[str, int], bad: int, slow: int) -> int:
    """Records a schedule produces (a "back" re-crawl is two records), besides the slow pages
    its stage-timeout faults add."""
    return pages + sum(recrawls.values()) + recrawls.get("back", 0) + bad + slow


def _issue15(seed: int) -> Schedule:
    """Issue 15's schedule: 600 pages + 30 re-crawls + 52-60 bad records, 30 % at once and the
    rest at 8 records/s, 5 kills at 10, 25, 40, 60 and 75 % of the pages enriched, the broker
    stopped at 57 % for 10 s; the default 10 s stage timeout."""
    rng = random.Random(seed)
    kinds = [c.name for c in bad_inputs()]
    bad = tuple(rng.choice(kinds) for _ in range(rng.randint(52, 60)))
    recrawls = {"same": 10, "new": 10, "back": 5}
    total = record_count(600, recrawls, len(bad), 0)
    burst = round(total * 0.3)
    kills = [Fault("kill", "progress", at=f, worker=i % 2, down_s=2.0)
             for i, f in enumerate((0.10, 0.25, 0.40, 0.60, 0.75))]  # fmt: skip
    broker = Fault("broker-stop", "progress", at=0.57, down_s=10.0)
    return Schedule(
        seed=seed, preset="issue15", pages=600, recrawls=recrawls,
        bad=bad, slow=(), phases=(Phase(burst, None), Phase(total - burst, 8.0)),
        faults=tuple(sorted([*kills, broker], key=lambda f: f.at)),
    )  # fmt: skip


def _ci(seed: int) -> Schedule:
    """The short run CI makes, issue 15's schedule scaled down: ~450 records, 30 % at once and
    the rest at 8/s, four kills (one followed by another right after its restart or during the
    rebalance it causes), a 5 s broker stop; about 90 s on a quiet 2-core machine."""
    rng = random.Random(seed)
    kinds = [c.name for c in bad_inputs() if not c.slow]
    bad = tuple(rng.sample(kinds, 30))
    recrawls = {"same": 6, "new": 6, "back": 4}
    pages = 400
    total = record_count(pages, recrawls, len(bad), 0)
    burst = round(total * 0.3)
    follow = rng.choice(FOLLOW_UPS)
    return Schedule(
        seed=seed, preset="ci", pages=pages, recrawls=recrawls, bad=bad, slow=(),
        phases=(Phase(burst, None), Phase(total - burst, 8.0)),
        faults=(
            Fault("kill", "progress", at=rng.uniform(0.08, 0.15), worker=0),
            Fault("kill", "progress", at=rng.uniform(0.2, 0.3), worker=1),
            Fault("kill", follow, delay=rng.uniform(0.5, 3.0),
                  worker=None if follow == "after-restart" else rng.randrange(2)),
            Fault("kill", "progress", at=rng.uniform(0.4, 0.5), worker=rng.randrange(2)),
            Fault("broker-stop", "progress", at=rng.uniform(0.55, 0.7), down_s=5.0),
        ),
        stage_timeout_s=3.0, quiet_s=10.0, quiesce_timeout_s=180.0,
    )  # fmt: skip


def _full(seed: int) -> Schedule:
    """The old full run (scripts/fault_run.py, issue 6) on two workers: 20,000 pages + 4,000
    re-crawls produced at once, 3 kills at random moments, one 20 s broker stop."""
    rng = random.Random(seed)
    recrawls = {"same": 2000, "new": 1500, "back": 250}
    kills = [
        Fault("kill", "progress", at=rng.uniform(0.1, 0.8), worker=rng.randrange(2))
        for _ in range(3)
    ]
    broker = Fault("broker-stop", "progress", at=rng.uniform(0.3, 0.7), down_s=20.0)
    return Schedule(
        seed=seed, preset="full", pages=20_000, recrawls=recrawls,
        bad=(), slow=(), phases=(Phase(record_count(20_000, recrawls, 0, 0), None),),
        faults=tuple(sorted([*kills, broker], key=lambda f: f.at)),
        quiesce_timeout_s=3600.0,
    )  # fmt: skip


def _random(seed: int) -> Schedule:
    """Everything drawn from the seed: sizes, production phases, faults and their triggers."""
    rng = random.Random(seed)
    cases = bad_inputs()
    pages = rng.randint(150, 700)
    recrawls = {k: rng.randint(0, max(1, pages // 30)) for k in ("same", "new", "back")}
    kinds = [c.name for c in cases]
    bad = tuple(rng.choice(kinds) for _ in range(rng.randint(0, 70)))
    slow_kinds = [c.name for c in cases if c.slow]
    slow = tuple(rng.choice(slow_kinds) for _ in range(rng.randint(0, 3)))
    total = record_count(pages, recrawls, len(bad), len(slow))
    phases: list[Phase] = []
    left = total
    for i in range(rng.randint(1, 3)):
        n = left if i == 2 else rng.randint(1, left)
        rate = None if rng.random() < 0.4 else float(rng.choice([3, 5, 8, 12, 20, 40]))
        phases.append(Phase(n, rate))
        left -= n
        if not left:
            break
    if left:
        phases.append(Phase(left, float(rng.choice([5, 8, 12]))))
    stage_timeout = float(rng.choice([1, 2, 3]))
    faults: list[Fault] = []
    points = sorted(rng.uniform(0.05, 0.9) for _ in range(rng.randint(1, 6)))
    for at in points:
        roll = rng.random()
        if roll < 0.15:
            faults.append(Fault(rng.choice(BROKER_FAULTS), "progress", at=at,
                                down_s=rng.uniform(3, 15)))  # fmt: skip
            continue
        if roll < 0.35:
            page = rng.choice(slow_kinds)
            delay = rng.uniform(0.2, stage_timeout)
            faults.append(Fault("kill", "stage-timeout", at=at, delay=delay, slow_page=page,
                                down_s=rng.uniform(1.5, 2.5)))  # fmt: skip
        else:
            faults.append(Fault("kill", "progress", at=at, worker=rng.randrange(2),
                                down_s=rng.uniform(1.5, 2.5)))  # fmt: skip
        follow = rng.random()
        if follow < 0.2:
            faults.append(Fault("kill", "after-restart", delay=rng.uniform(0.3, 6.0),
                                down_s=rng.uniform(1.5, 2.5)))  # fmt: skip
        elif follow < 0.4:
            faults.append(Fault("kill", "rebalance", worker=rng.randrange(2),
                                down_s=rng.uniform(1.5, 2.5)))  # fmt: skip
    if rng.random() < 0.3:
        faults.append(Fault(rng.choice(BROKER_FAULTS), "progress",
                            at=rng.uniform(0.3, 0.9), down_s=rng.uniform(3, 15)))  # fmt: skip
    faults = _in_progress_order(faults)
    return Schedule(
        seed=seed, preset="random", pages=pages, recrawls=recrawls, bad=bad, slow=slow,
        phases=tuple(phases), faults=tuple(faults), stage_timeout_s=stage_timeout,
        session_timeout_s=float(rng.choice([6, 10])),
    )  # fmt: skip


def _in_progress_order(faults: list[Fault]) -> list[Fault]:
    """Faults in rising progress order; a follow-up (after-restart, rebalance) stays right
    behind the kill it follows."""
    groups: list[list[Fault]] = []
    for fault in faults:
        if fault.trigger in ("after-restart", "rebalance") and groups:
            groups[-1].append(fault)
        else:
            groups.append([fault])
    groups.sort(key=lambda g: g[0].at)
    return [f for g in groups for f in g]


def draw(seed: int, preset: str = "random") -> Schedule:
    """The schedule of ``seed`` under ``preset`` (see PRESETS)."""
    makers = {"random": _random, "issue15": _issue15, "ci": _ci, "full": _full}
    if preset not in makers:
        raise ValueError(f"unknown preset {preset!r} (one of {', '.join(PRESETS)})")
    return makers[preset](seed)
