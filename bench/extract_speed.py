"""Speed of ``newsflow extract`` over all of ner-dev (2,706 sentences, ~157k chars), as a user
runs it: one process per run, start-up included, wall time and CPU time (user + sys of the
process, from ``getrusage``). The CPU figure is the steady one on a shared machine: other jobs
stretch the wall time, not the CPU time the command itself used.

    python bench/extract_speed.py [--repeat 5] [--cmd "newsflow extract"]

Prints per run and the best and median of chars/s (wall) and chars per CPU-second.
"""

from __future__ import annotations

import argparse
import json
import resource
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from workers.extract.train import DEFAULT_GOLD, load  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cmd", default="newsflow extract")
    ap.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    a = ap.parse_args()
    texts = [d["text"] for d in load(a.gold)]
    data = "".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in
                   enumerate(texts)).encode()  # fmt: skip
    chars = sum(map(len, texts))
    wall, cpu = [], []
    for run in range(a.repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        out = subprocess.run(shlex.split(a.cmd), input=data, capture_output=True, check=True)
        w = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        c = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if out.stdout.count(b"\n") != len(texts):
            raise SystemExit("the command did not answer every line")
        wall.append(chars / w)
        cpu.append(chars / c)
        print(f"run {run + 1}: {chars / w:,.0f} chars/s wall, {chars / c:,.0f} chars/CPU-s")
    print(
        f"extract_speed chars={chars} runs={a.repeat} wall best={max(wall):.0f} "
        f"median={statistics.median(wall):.0f} cpu best={max(cpu):.0f} "
        f"median={statistics.median(cpu):.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
