"""Python garbage-collector settings for a long-running worker process.

Why: with CPython's default thresholds (700, 10, 10) the worker ran thousands of young and
dozens of full collections per few thousand pages, a large share of its CPU, and each full one
stopped the event loop (every record in flight waits). Most objects of a record die young (its
event, message, futures), so a young generation of 20,000 objects lets them die by reference
counting before any collection sees them, and far fewer reach the old generation (figures:
docs/benchmark.md, "Garbage collector" under the aecb43b full run). Cycles are still found,
only less often; the memory they hold meanwhile is a few MB at most.
The stage processes (spawned, not forked) keep Python's defaults: clean and extract there
showed no difference either way. ``newsflow extract`` uses these thresholds too: it also gives
keys (workers.identity), and its alias book grows line after line.
"""

from __future__ import annotations

import gc

#: (young objects before a young collection, young collections per middle one, middle per full)
GC_THRESHOLDS = (20_000, 20, 10)


def tune_gc(thresholds: tuple[int, int, int] = GC_THRESHOLDS) -> None:
    """Set the collector's thresholds for this process."""
    gc.set_threshold(*thresholds)
