"""The worker's garbage-collector settings: a young generation big enough that a record's
short-lived objects die before a collection sees them."""

from __future__ import annotations

import gc

from workers.gctune import GC_THRESHOLDS, tune_gc


def _collections_while_records_pass(records: int) -> int:
    """Young collections while records pass one batch of 256 at a time: each record's objects
    (an event, a message, a dict of fields, futures) live until its batch is done."""
    counts = [0]

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            counts[0] += 1

    gc.callbacks.append(count)
    try:
        for _ in range(records // 256):
            batch = [({"id": i, "fields": [i, str(i)]}, [i], {i}) for i in range(256)]
            del batch
    finally:
        gc.callbacks.remove(count)
    return counts[0]


def test_tuned_thresholds_mean_far_fewer_collections() -> None:
    before = gc.get_threshold()
    try:
        default = _collections_while_records_pass(50_000)
        tune_gc()
        assert gc.get_threshold() == GC_THRESHOLDS
        tuned = _collections_while_records_pass(50_000)
    finally:
        gc.set_threshold(*before)
    assert default > 20 * max(tuned, 1)
