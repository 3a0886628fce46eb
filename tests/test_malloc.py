"""The fixed mmap threshold keeps big transient buffers out of the main heap."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# Big buffers freed while small objects allocated between them stay alive: the pattern of a
# worker (fetch responses and producer batches come and go, records and table values stay).
PROGRAM = textwrap.dedent(
    """
    import sys
    if sys.argv[1] == "fixed":
        from workers.malloc import fix_mmap_threshold
        assert fix_mmap_threshold()
    def heap_kb():
        kb, in_heap = 0, False
        for line in open("/proc/self/smaps"):
            if line[0] in "0123456789abcdef" and "-" in line.split()[0]:
                in_heap = line.rstrip().endswith("[heap]")
            elif in_heap and line.startswith("Rss:"):
                kb += int(line.split()[1])
        return kb
    big = bytearray(4 << 20)
    del big  # one big buffer freed: glibc raises its threshold to 4 MB
    kept = []
    for i in range(40):
        bufs = []
        for j in range(32):
            bufs.append(bytearray((256 + 64 * ((i + j) % 8)) * 1024))  # fetch responses
            kept.append(bytes(1200 + i * 16 + j))  # records that outlive them
        del bufs
    print(heap_kb())
    """
)


def _heap_kb(mode: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", PROGRAM, mode], capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_big_buffers_do_not_grow_the_heap() -> None:
    default, fixed = _heap_kb("default"), _heap_kb("fixed")
    assert fixed < 8 * 1024, fixed
    assert default > 3 * fixed, (default, fixed)
