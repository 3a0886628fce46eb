"""The fault harness in CI: one short seeded schedule (preset "ci", issue 15's scaled down) on
the session's Kafka broker, two workers, SIGKILLs, a broker stop and bad input; fails when a
record is lost, a count is off, or the pipeline does not come to rest.

Replay a failure outside pytest: ``python -m tests.chaos --preset ci --seed <seed>`` (the seed
is in the test's output); many schedules: ``python -m tests.chaos --seed 1 --runs 20``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chaos.runner import run
from tests.chaos.schedule import draw
from workers.brokers.kafka import KafkaBroker

#: A seed whose schedule lost records on 3d0e381 (2 of 3 "ci" seeds did; docs/fault-tolerance.md).
CI_SEED = 2


class InvariantBroken(Exception):
    """What the checker found: records lost, counts off, no rest. (A harness failure raises
    something else, so the xfail below never hides it.)"""


@pytest.mark.timeout(600)
def test_a_seeded_fault_schedule_loses_nothing_and_counts_stay_exact(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    schedule = draw(CI_SEED, "ci")
    print(f"\n{schedule.describe()}")
    result = run(schedule, kafka_broker, tmp_path, say=print)
    report = result.report
    print("\n".join(f"  {k}: {v}" for k, v in report.rows()))
    print(report.details())
    assert not report.unproduced, "the harness could not produce every planned record"
    replay = f"replay: python -m tests.chaos --preset ci --seed {CI_SEED}; logs in {tmp_path}"
    if not report.ok:
        raise InvariantBroken(
            f"lost {len(report.lost)}, keys too high {len(report.over)}, too low "
            f"{len(report.under)}, quiescent {report.quiescent} ({replay}):\n{report.details()}"
        )
