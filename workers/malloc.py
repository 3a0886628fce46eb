"""glibc malloc settings for a long-running worker process.

Why: glibc serves a large allocation (>= 128 KB) with its own mmap and returns it to the OS on
free, but every such free raises the threshold to the freed size (up to 32 MB). The worker
allocates and frees big buffers all the time (Kafka fetch responses, producer batches, the
table snapshot), so after the first ones they came from the main heap instead, which only
grows. A fixed threshold keeps big buffers out of the heap (docs/benchmark.md, "Memory").
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger("newsflow.malloc")

#: mallopt parameter numbers from glibc's malloc.h
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3

#: Allocations from this size up get their own mapping, returned to the OS when freed.
MMAP_THRESHOLD_BYTES = 128 * 1024


def fix_mmap_threshold(threshold: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Fix glibc's mmap threshold (which also stops its dynamic growth) and trim the heap
    top back to the OS from 4 × that; False where there is no glibc (nothing changes)."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = mallopt(M_MMAP_THRESHOLD, threshold) == 1
    ok = mallopt(M_TRIM_THRESHOLD, 4 * threshold) == 1 and ok
    if not ok:
        log.warning("mallopt refused the mmap threshold; the heap may grow with big buffers")
    return ok
