"""Speed of ``newsflow extract`` over all of ner-dev (2,706 sentences, ~157k chars), as a user
runs it: one process per run, start-up included, wall time and CPU time (user + sys of the
process, from ``getrusage``). The CPU figure is the steady one on a shared machine: other jobs
stretch the wall time, not the CPU time the command itself used.

    python bench/extract_speed.py [--repeat 5] [--cmd "newsflow extract"] [--bytecode]
    python bench/extract_speed.py --in-process [--pages 300]

Prints per run and the best and median of chars/s (wall) and chars per CPU-second.
``--in-process``: the same work in this process, no start-up, CPU time only: the extractor's
rows and then ``workers.identity`` over them (where the package has it), on ner-dev or on
``--pages`` bench-corpus pages; to compare two checkouts run it with PYTHONPATH set to each.
``--bytecode``: first compile the ``workers`` package the command imports (the one PYTHONPATH
or the venv gives) to .pyc beside its sources, as ``pip install`` does for an installed
package. Without it, an editable install under PYTHONDONTWRITEBYTECODE=1 (this sandbox) compiles
every module from source at every start, which an installed newsflow never does.
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
if "PYTHONPATH" not in __import__("os").environ:
    sys.path.insert(0, str(REPO))

from workers.extract.train import DEFAULT_GOLD, load  # noqa: E402


def in_process(texts: list[str], repeat: int, rows_only: bool = False) -> None:
    """rows (+ identity when the package has it) per CPU-second, in this process."""
    import workers.extract
    from workers.extract import get_extractor

    rows = get_extractor().rows
    entities = None
    work = "rows"
    try:
        import workers.identity

        # the same checkout's identity only (an editable install can serve another's)
        here = Path(workers.extract.__file__).parents[1]
        if Path(workers.identity.__file__).parents[1] == here and not rows_only:
            entities = workers.identity.Identity().entities
            work = "rows+identity"
    except ImportError:
        pass
    rows(texts[0])
    chars = sum(map(len, texts))
    rates = []
    for _ in range(repeat):
        t0 = time.process_time()
        for text in texts:
            got = rows(text)
            if entities is not None:
                entities(text, got)
        rates.append(chars / (time.process_time() - t0))
    print(
        f"extract_in_process work={work} texts={len(texts)} chars={chars} runs={repeat} "
        f"cpu best={max(rates):.0f} median={statistics.median(rates):.0f}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cmd", default="newsflow extract")
    ap.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    ap.add_argument("--in-process", action="store_true", help="no subprocess: CPU time only")
    ap.add_argument("--pages", type=int, default=0, help="with --in-process: bench pages")
    ap.add_argument("--rows-only", action="store_true", help="with --in-process: no identity")
    ap.add_argument("--bytecode", action="store_true", help="compile the package first")
    a = ap.parse_args()
    texts = [d["text"] for d in load(a.gold)]
    if a.in_process:
        if a.pages:
            from workers.bench.corpus import generate_pages
            from workers.clean import clean_page

            pages = generate_pages(a.pages, seed=1, kind="mixed")
            texts = [clean_page(p["body"], p.get("content_type")).text for p in pages]
        in_process(texts, a.repeat, a.rows_only)
        return 0
    data = "".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in
                   enumerate(texts)).encode()  # fmt: skip
    chars = sum(map(len, texts))
    if a.bytecode:  # -P: the package PYTHONPATH or the venv gives, not one in the cwd
        compile_package = "import compileall, os, workers; compileall.compile_dir(os.path.dirname(workers.__file__), quiet=1)"  # noqa: E501
        subprocess.run([sys.executable, "-P", "-c", compile_package], check=True)
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
