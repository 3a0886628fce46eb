"""Benchmark of ``newsflow clean`` on cleaning-dev: P/R/F1 (shingle metric) and pages/s.

Three runs of ``../shared/tools/clean_eval.py`` (the evaluator times the whole command,
interpreter start-up included, in wall time; the machine may be busy with other work, so the
command is also run once more alone and its CPU time, user + sys, start-up included, is
reported as CPU pages/s):

* html      - the 124 HTML pages, ``{"id", "html"}`` in;
* seed-text - the flattened seed page, ``{"id", "text"}`` in;
* flattened - every HTML page flattened to crawler text by ``../shared/tools/flatten.py``
              (needs ``pip install html-text``), so the text path is measured on many pages.

Usage (from the repo root, newsflow installed):  python -m bench.clean [--cmd "newsflow clean"]
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BENCH = SHARED / "data" / "cleaning-dev"
EVAL = SHARED / "tools" / "clean_eval.py"
FLATTEN = SHARED / "tools" / "flatten.py"
_SUMMARY = re.compile(r"f1=([\d.]+) precision=([\d.]+) recall=([\d.]+) pages_per_s=([\d.na]+)")


def evaluate(bench: Path, cmd: str, mode: str) -> tuple[str, ...]:
    """Run the evaluator once; returns (F1, P, R, pages/s) as printed by it."""
    out = subprocess.run(
        [sys.executable, str(EVAL), str(bench), "--input", mode, "--cmd", cmd, "--bootstrap", "0"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    match = _SUMMARY.search(out.stdout)
    if not match:
        raise SystemExit(f"no summary line from clean_eval:\n{out.stdout}\n{out.stderr}")
    return match.groups()


def cpu_rate(bench: Path, cmd: str, mode: str) -> str:
    """Pages per CPU second (user + sys of the command and its children, start-up included)."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8") as pages:
        count = 0
        with (bench / "pages.jsonl").open(encoding="utf-8") as src:
            for line in src:
                page = json.loads(line)
                if isinstance(page.get(mode), str):
                    pages.write(json.dumps({"id": page["id"], mode: page[mode]}) + "\n")
                    count += 1
        pages.flush()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(pages.name, "rb") as stdin:
            subprocess.run(["bash", "-c", cmd], stdin=stdin, stdout=subprocess.DEVNULL, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return f"{count / cpu:.1f}" if cpu > 0 else "n/a"


def flattened_bench(workdir: Path) -> Path:
    """A pages.jsonl where every HTML page of cleaning-dev is replaced by its flattened text."""
    target = workdir / "flattened"
    target.mkdir()
    with (BENCH / "pages.jsonl").open("rb") as src, (target / "pages.jsonl").open("wb") as dst:
        subprocess.run([sys.executable, str(FLATTEN)], stdin=src, stdout=dst, check=True)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cmd", default="newsflow clean")
    args = parser.parse_args()
    rows = [
        ("html (124 pages)", *evaluate(BENCH, args.cmd, "html"), cpu_rate(BENCH, args.cmd, "html"))
    ]
    rows.append(("seed-text (1 page)", *evaluate(BENCH, args.cmd, "text"), "-"))
    with tempfile.TemporaryDirectory(prefix="newsflow_bench_") as tmp:
        flattened = flattened_bench(Path(tmp))
        rows.append(
            ("flattened (125 pages)", *evaluate(flattened, args.cmd, "text"),
             cpu_rate(flattened, args.cmd, "text"))
        )  # fmt: skip
    print(f"| input | F1 | P | R | pages/s (wall) | pages/s (CPU) |  (cmd: {args.cmd})")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, f1, p, r, pps, cpu in rows:
        print(f"| {name} | {f1} | {p} | {r} | {pps} | {cpu} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
