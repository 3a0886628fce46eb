"""The bench keeps its own load off the worker's core: every thread of a process is moved,
and every core is given back afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from workers.bench.placement import all_cores, off_worker_core, other_cores, threads

# A child with a few threads, like the broker's JVM (affinity is per thread).
CHILD = (
    "import threading, time\n"
    "for _ in range(3): threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
    "print('up', flush=True); time.sleep(60)\n"
)


def _cpu_list(text: str) -> set[int]:
    """'0-1,3' -> {0, 1, 3} (the /proc status format)."""
    out: set[int] = set()
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out |= set(range(int(lo), int(hi or lo) + 1))
    return out


def _allowed(pid: int) -> list[set[int]]:
    """The allowed cores of each thread of ``pid``."""
    out = []
    for tid in threads(pid):
        for line in Path(f"/proc/{pid}/task/{tid}/status").read_text().splitlines():
            if line.startswith("Cpus_allowed_list:"):
                out.append(_cpu_list(line.split(":", 1)[1].strip()))
    return out


@pytest.mark.skipif(len(all_cores()) < 2, reason="needs two cores to move a process off core 0")
def test_every_thread_leaves_the_worker_core_and_comes_back() -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "up"
        assert len(threads(child.pid)) >= 4
        with off_worker_core([child.pid]) as cores:
            assert cores == other_cores() and 0 not in cores
            assert all(a == cores for a in _allowed(child.pid))
            assert all(a == cores for a in _allowed(os.getpid()))  # the bench itself too
        assert all(a == all_cores() for a in _allowed(child.pid))
        assert all(a == all_cores() for a in _allowed(os.getpid()))
    finally:
        child.kill()
        child.wait()
