"""Score `newsflow extract` on ner-dev with the official metric (../shared/tools/ner_eval.py).

    python bench/eval_ner.py                 # held-back part only (never trained on)
    python bench/eval_ner.py --part all      # all of ner-dev (mostly training data: optimistic)
    python bench/eval_ner.py --part both

The held-back part is the curid bucket that `python -m workers.extract.train` leaves out; it is
written to a temporary gold file so ner_eval.py scores exactly those sentences. chars/s is wall
time of the whole command, start-up included (ner_eval also prints a net figure).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / ".." / "shared"
sys.path.insert(0, str(REPO))

from workers.extract.train import DEFAULT_GOLD, load, split  # noqa: E402


def run(gold: Path, cmd: str, name: str, extra: list[str]) -> int:
    argv = [sys.executable, str(SHARED / "tools" / "ner_eval.py"), cmd, "--gold", str(gold),
            "--name", name, *extra]
    return subprocess.call(argv, cwd=REPO)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--part", choices=["held", "all", "both"], default="held")
    ap.add_argument("--cmd", default="newsflow extract")
    ap.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    a, extra = ap.parse_known_args()
    rc = 0
    if a.part in ("held", "both"):
        _, held = split(load(a.gold))
        with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8") as f:
            json.dump(held, f, ensure_ascii=False)
            f.flush()
            rc |= run(Path(f.name), a.cmd, "held-out", extra)
    if a.part in ("all", "both"):
        rc |= run(a.gold, a.cmd, "all-ner-dev", extra)
    return rc


if __name__ == "__main__":
    sys.exit(main())
