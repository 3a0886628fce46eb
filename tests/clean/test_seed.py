"""The seed page (flattened Japanese news page): body, headline and date."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from workers.clean import clean_page

_CJK = r"[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]"
_TOKEN = re.compile(_CJK + r"|(?:(?!" + _CJK + r")\w)+")


def shingle_f1(gold: str, pred: str, n: int = 4) -> float:
    """The benchmark's metric for one page (4-token shingles, a CJK character = a token)."""

    def bag(text: str) -> Counter[tuple[str, ...]]:
        toks = _TOKEN.findall(text)
        return Counter(tuple(toks[i : i + n]) for i in range(max(1, len(toks) - n + 1)))

    g, p = bag(gold), bag(pred)
    tp = sum((g & p).values())
    if not tp:
        return 0.0
    precision, recall = tp / sum(p.values()), tp / sum(g.values())
    return 2 * precision * recall / (precision + recall)


def test_seed_body_f1(seed_dir: Path) -> None:
    page = clean_page((seed_dir / "page.txt").read_text(encoding="utf-8"))
    gold = (seed_dir / "body.txt").read_text(encoding="utf-8")
    assert shingle_f1(gold, page.text) >= 0.95


def test_seed_headline_not_breadcrumb(seed_dir: Path) -> None:
    lines = (seed_dir / "page.txt").read_text(encoding="utf-8").splitlines()
    page = clean_page("\n".join(lines))
    # The headline is the line just above the date line in the page itself.
    date_line = next(i for i, ln in enumerate(lines) if re.search(r"\d{4}年\d+月\d+日", ln))
    headline = next(ln for ln in reversed(lines[:date_line]) if ln.strip())
    assert page.title == headline.strip()


def test_seed_published_at(seed_dir: Path) -> None:
    page = clean_page((seed_dir / "page.txt").read_text(encoding="utf-8"), "text/plain")
    assert page.published_at == "2024-06-20T11:39:00+09:00"


def test_seed_paragraphs_are_lines(seed_dir: Path) -> None:
    page = clean_page((seed_dir / "page.txt").read_text(encoding="utf-8"))
    assert "\n\n" not in page.text
    assert len(page.text.splitlines()) >= 10
