"""Score `newsflow extract` on ner-dev with the official metric (../shared/tools/ner_eval.py).

    python bench/eval_ner.py                 # held-back part only (never trained on)
    python bench/eval_ner.py --part all      # all of ner-dev (mostly training data: optimistic)
    python bench/eval_ner.py --part both

The held-back part is the curid bucket that `python -m workers.extract.train` leaves out; it is
written to a temporary gold file so ner_eval.py scores exactly those sentences. chars/s is wall
time of the whole command, start-up included (ner_eval also prints a net figure).

    python bench/eval_ner.py --part both --repeat 5   # shared machine: best and median of 5

With --repeat N each part is scored N times (scores are identical; speed wobbles) and a
`speed` line gives the best and median chars/s, start-up included and net.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / ".." / "shared"
sys.path.insert(0, str(REPO))

from workers.extract.train import DEFAULT_GOLD, load, split  # noqa: E402


def run(gold: Path, cmd: str, name: str, extra: list[str], repeat: int = 1) -> int:
    """ner_eval.py on one gold file; with repeat > 1 also a best/median speed summary."""
    argv = [
        sys.executable,
        str(SHARED / "tools" / "ner_eval.py"),
        cmd,
        "--gold",
        str(gold),
        "--name",
        name,
        *extra,
    ]
    rc = 0
    speeds: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeat):
            out = Path(tmp) / f"{i}.json"
            rc |= subprocess.call([*argv, "--json-out", str(out)] if repeat > 1 else argv, cwd=REPO)
            if repeat > 1 and out.exists():
                m = json.loads(out.read_text(encoding="utf-8"))
                speeds.append((m["chars_per_s"], (m.get("net") or {}).get("chars_per_s", 0.0)))
    if speeds:
        wall, net = [s[0] for s in speeds], [s[1] for s in speeds]
        print(
            f"speed name={name} runs={len(speeds)} chars_per_s best={max(wall):.0f} "
            f"median={statistics.median(wall):.0f} net best={max(net):.0f} "
            f"median={statistics.median(net):.0f}"
        )
    return rc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--part", choices=["held", "all", "both"], default="held")
    ap.add_argument("--cmd", default="newsflow extract")
    ap.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    ap.add_argument("--repeat", type=int, default=1, help="score each part N times (speed)")
    a, extra = ap.parse_known_args()
    rc = 0
    if a.part in ("held", "both"):
        _, held = split(load(a.gold))
        with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8") as f:
            json.dump(held, f, ensure_ascii=False)
            f.flush()
            rc |= run(Path(f.name), a.cmd, "held-out", extra, a.repeat)
    if a.part in ("all", "both"):
        rc |= run(a.gold, a.cmd, "all-ner-dev", extra, a.repeat)
    return rc


if __name__ == "__main__":
    sys.exit(main())
