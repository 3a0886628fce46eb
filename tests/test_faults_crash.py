"""Quick CI versions of the fault runs (the full ones: ``scripts/fault_run.py``).

A worker is SIGKILLed at random moments and restarted; the broker is stopped and started
again; afterwards no page version is lost and every entity count equals an offline recount
made with the same pure stage functions from the same input.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.faults import fault_corpus, run_faults
from workers.brokers.kafka import KafkaBroker


@pytest.mark.timeout(600)
def test_kill9_twice_loses_nothing_and_counts_stay_exact(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    pages = fault_corpus(300, seed=21)
    report = run_faults(kafka_bootstrap, tmp_path, pages, kills=2, seed=3, settle_timeout=240)
    print("\n" + report.table())
    assert report.kills == 2
    assert report.lost == 0, report.lost_ids
    assert report.count_mismatches == 0, report.mismatched
    assert report.enriched >= len({p["id"] for p in pages})


@pytest.mark.timeout(600)
def test_broker_stop_and_start_the_worker_reconnects_and_loses_nothing(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    pages = fault_corpus(200, seed=22)
    report = run_faults(
        kafka_broker.bootstrap, tmp_path, pages, broker=kafka_broker, broker_stop_s=5.0,
        seed=4, settle_timeout=240,
    )  # fmt: skip
    print("\n" + report.table())
    assert report.broker_stops == 1
    assert report.lost == 0, report.lost_ids
    assert report.count_mismatches == 0, report.mismatched
