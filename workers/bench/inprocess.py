"""The in-process half of the benchmark: bare Sudachi (the limit) and the stages without Kafka.

Why "chars" means article-text characters everywhere: the limit is Sudachi over the text the
extractor sees, so every row counts the same characters and the ratios compare like with like.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


def ratio(amount: float, per: float) -> float:
    """``amount / per``, or 0 when there is nothing to divide by (an empty or instant run)."""
    return amount / per if per > 0 else 0.0


class Rates:
    """Pages and characters per wall second of a run that has ``pages``, ``chars``, ``wall_s``."""

    pages: int
    chars: int
    wall_s: float

    @property
    def pages_per_s(self) -> float:
        return ratio(self.pages, self.wall_s)

    @property
    def chars_per_s(self) -> float:
        return ratio(self.chars, self.wall_s)


@dataclass(frozen=True)
class Measure(Rates):
    """One timed run: how much work, wall time and this process's CPU time."""

    name: str
    pages: int
    chars: int
    wall_s: float
    cpu_s: float


def timed(name: str, pages: int, chars: int, run: Callable[[], Any]) -> Measure:
    """Run once, measuring wall and CPU time (CPU shows how much of the wall was ours)."""
    w0, c0 = time.perf_counter(), time.process_time()
    run()
    return Measure(name, pages, chars, time.perf_counter() - w0, time.process_time() - c0)


def median_run(measures: Sequence[Measure]) -> Measure:
    """The median run by wall time: the machine is shared, single runs wobble."""
    return sorted(measures, key=lambda m: m.wall_s)[len(measures) // 2]


def sudachi_limit(texts: Sequence[str], repeats: int = 3) -> Measure:
    """Bare SudachiPy: split mode C, one reused tokenizer, each text line by line (as the
    extractor feeds it, under Sudachi's input limit), morphemes materialized, nothing else."""
    from sudachipy import Dictionary, SplitMode

    from workers.extract.tokens import split_for_sudachi

    tokenizer = Dictionary().create(SplitMode.C)
    chunks = [chunk for text in texts for _, chunk in split_for_sudachi(text)]
    chars = sum(len(t) for t in texts)

    def run() -> None:
        for chunk in chunks:
            len(tokenizer.tokenize(chunk))

    run()  # warm the dictionary pages and caches
    runs = [timed("sudachi", len(texts), chars, run) for _ in range(repeats)]
    return median_run(runs)


def stage_measures(pages: Sequence[dict[str, Any]], repeats: int = 1) -> dict[str, Measure]:
    """clean, extract, clean+extract and the Sudachi limit, all on the same pages."""
    from workers.clean import clean_page
    from workers.extract import get_extractor

    extract = get_extractor()
    texts = [clean_page(p["body"], p.get("content_type")).text for p in pages]
    chars = sum(len(t) for t in texts)
    n = len(pages)
    extract(texts[0])  # load the model before timing

    def clean_all() -> None:
        for p in pages:
            clean_page(p["body"], p.get("content_type"))

    def extract_all() -> None:
        for t in texts:
            extract(t)

    def both() -> None:
        for p in pages:
            extract(clean_page(p["body"], p.get("content_type")).text)

    out = {"sudachi": sudachi_limit(texts, repeats=max(3, repeats))}
    for name, fn in (("clean", clean_all), ("extract", extract_all), ("clean+extract", both)):
        out[name] = median_run([timed(name, n, chars, fn) for _ in range(repeats)])
    return out


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
