"""Which cores the bench's own load (the broker, the load generator) may run on.

Why: the goal is "one worker on one core". The worker and its stage processes are pinned to
core 0 with taskset, but an unpinned broker and bench were scheduled on core 0 as well, so the
1-worker rows measured the worker sharing its core with them, and its latency tail waited for
their time slices. During the 1-worker phases they are confined to the other cores; the
2-worker run, which needs both cores for workers, gives every process every core back.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator

WORKER_CORE = 0


def threads(pid: int) -> list[int]:
    """Every thread id of a process (affinity is per thread; a JVM has dozens)."""
    try:
        return [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []


def set_cores(pids: Iterable[int], cores: set[int]) -> int:
    """Set the allowed cores of every thread of ``pids``; returns how many threads were set.

    Threads created later inherit their creator's set, so one pass is enough.
    """
    done = 0
    for pid in pids:
        for tid in threads(pid):
            with contextlib.suppress(OSError):  # a thread that just ended
                os.sched_setaffinity(tid, cores)
                done += 1
    return done


def all_cores() -> set[int]:
    return set(range(os.cpu_count() or 1))


def other_cores() -> set[int]:
    """The cores left for the broker and the bench when core 0 is the worker's; empty on a
    one-core machine (nothing to confine to)."""
    return all_cores() - {WORKER_CORE}


@contextlib.contextmanager
def off_worker_core(pids: Iterable[int]) -> Iterator[set[int]]:
    """Confine ``pids`` (and this process) to the cores other than the worker's, for the block.

    Yields the cores used, or an empty set when the machine has one core and nothing moved.
    """
    cores = other_cores()
    pids = [os.getpid(), *pids]
    if not cores:
        yield set()
        return
    set_cores(pids, cores)
    try:
        yield cores
    finally:
        set_cores(pids, all_cores())
