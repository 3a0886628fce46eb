"""Adversarial pages: the shapes that made the cleaner superlinear, and time per page for each.

``newsflow bench --adversarial`` prints one row per page: its size, the time to bound its
markup (``workers.clean.markup``), to parse it, and to clean it end to end (``clean_page``, the
clean stage's work; wall and CPU seconds, as the machine may be shared), how long the cleaned
text is and what its record says was truncated. Each page runs in a child process with a
deadline (``--deadline``, default the stage timeout), so a page that is still quadratic shows as
"over" instead of stalling the run. Figures go to docs/benchmark.md; tests assert behaviour on
the same pages (tests/clean/test_markup.py, test_truncation.py), not time.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from workers.bench.corpus import NER_DEV, generate_pages

JA = "東京都の山田太郎知事は大阪で記者会見を開いた。"
#: A sentence the cleaner must keep in every page below (it is the only prose there).
MARKER = "横浜市の新しい図書館は来月開館する予定だと市の担当者が説明した。"


def _page(body: str) -> str:
    return f"<html><head><title>t</title></head><body>{body}</body></html>"


def _nested(tag: str, n: int, close: bool = True) -> str:
    return _page(f"<{tag}>" * n + f"<p>{MARKER}</p>" + (f"</{tag}>" * n if close else ""))


def _attributes(n: int) -> str:
    attrs = " ".join(f"data-a{i}=x" for i in range(n))
    return _page(f"<div {attrs}><p>{MARKER}</p></div>")


def _comb(depth: int, leaves: int) -> str:
    """Deep wrappers around many short comma-less paragraphs (every wrapper is cleaned
    conditionally, and each used to count its whole subtree)."""
    return _page("<div>" * depth + "<p>東京大阪名古屋札幌福岡</p>" * leaves
                 + f"<p>{MARKER}</p>" + "</div>" * depth)  # fmt: skip


@dataclass(frozen=True)
class Adversarial:
    name: str
    what: str
    build: Callable[[], str]
    content_type: str = "text/html"


def _after(body: str) -> str:
    """``body`` with the marker paragraph after it."""
    return _page(body + f"<p>{MARKER}</p>")


def _before(body: str) -> str:
    """The marker paragraph, then ``body``."""
    return _page(f"<p>{MARKER}</p>" + body)


def _text_page(line: str) -> str:
    return MARKER + "\n" + line


N = 100_000
PAGES: tuple[Adversarial, ...] = (
    Adversarial("div-100k", "100,000 nested <div> (the issue's page)",
                lambda: _nested("div", N)),
    Adversarial("div-100k-open", "100,000 <div> never closed",
                lambda: _nested("div", N, close=False)),
    Adversarial("ul-li-50k", "50,000 nested <ul><li>",
                lambda: _nested("ul><li", 50_000, close=False)),
    Adversarial("table-30k", "30,000 nested <table><tr><td>",
                lambda: _nested("table><tr><td", 30_000, close=False)),
    Adversarial("span-100k", "100,000 nested <span>", lambda: _nested("span", N)),
    Adversarial("svg-100k", "100,000 nested <g> in <svg>",
                lambda: _after("<svg>" + "<g>" * N + "</svg>")),
    Adversarial("reconstruct-20k", "20,000 <p><b id=N>x</p> (formatting reconstructed)",
                lambda: _after("".join(f"<p><b id={i}>x</p>" for i in range(20_000)))),
    Adversarial("formatting-100k", "100,000 nested <b id=N>",
                lambda: _after("".join(f"<b id={i}>" for i in range(N)))),
    Adversarial("select-100k", "<select> with 100,000 <option>",
                lambda: _after("<select>" + "<option>x" * N + "</select>")),
    Adversarial("attributes-30k", "one tag with 30,000 attributes", lambda: _attributes(30_000)),
    Adversarial("attribute-3mb", "one 3 MB class attribute",
                lambda: _page('<div class="' + "c " * 1_500_000 + f'"><p>{MARKER}</p></div>')),
    Adversarial("comb-190x20k", "190 nested <div> around 20,000 short <p>",
                lambda: _comb(190, 20_000)),
    Adversarial("siblings-100k", "100,000 sibling <p>", lambda: _after("<p>東京</p>" * N)),
    Adversarial("text-node-3mb", "one 3 MB text node of kanji, no punctuation",
                lambda: _before("<p>" + "漢" * 3_000_000 + "</p>")),
    Adversarial("text-node-3mb-prose", "one 3 MB text node of sentences",
                lambda: _page(f"<p>{MARKER}" + JA * 130_000 + "</p>")),
    Adversarial("entities-400k", "400,000 character references (岸田…)",
                lambda: _before("<p>" + "&#x5CB8;&#x7530;" * 200_000 + "</p>")),
    Adversarial("comment-open", "an unclosed 1 MB comment after the text",
                lambda: _before("<!--" + "x" * 1_000_000)),
    Adversarial("script-3mb", "a 3 MB <script>",
                lambda: _after("<script>" + "var a=1;" * 375_000 + "</script>")),
    Adversarial("text-line-200kb", "a 200 kB line of kana, no punctuation (text page)",
                lambda: _text_page("あ" * 200_000), "text/plain"),
    Adversarial("text-line-3mb", "a 3 MB line of kanji (text page)",
                lambda: _text_page("漢" * 1_000_000), "text/plain"),
)  # fmt: skip


@dataclass(frozen=True)
class Timing:
    name: str
    chars: int
    bound_s: float | None
    parse_s: float | None
    clean_s: float | None
    clean_cpu_s: float
    text_chars: int
    keeps_marker: bool
    truncated: str  # the record's truncated keys ("-" none, "?" a build without them)


def _time_page(page: Adversarial, body: str) -> Timing:
    from workers.clean import clean_page
    from workers.clean.html import parse

    bound_markup: Callable[[str], Any] | None
    try:
        from workers.clean.markup import bound_markup
    except ImportError:  # a build from before the bounds: parse the page as it is
        bound_markup = None

    bound_s = parse_s = None
    if page.content_type == "text/html":
        markup = body
        if bound_markup is not None:
            t0 = time.perf_counter()
            markup = bound_markup(body).html
            bound_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        parse(markup)
        parse_s = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    cleaned = clean_page(body, page.content_type)
    clean_s, clean_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    cut = getattr(cleaned, "truncated", "?")
    said = ", ".join(cut) if isinstance(cut, dict) else "-" if cut is None else "?"
    return Timing(page.name, len(body), bound_s, parse_s, clean_s, clean_cpu_s, len(cleaned.text),
                  MARKER in cleaned.text, said)  # fmt: skip


def _child(page: Adversarial, out: Any) -> None:
    body = page.build()  # untimed: the deadline covers the measured work only
    out.put("built")
    out.put(_time_page(page, body))


def time_page(page: Adversarial, deadline_s: float) -> Timing | None:
    """Timing of one page in a fresh child process; None when bounding, parsing and cleaning
    it took longer than ``deadline_s`` together (the child is then killed)."""
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    proc = ctx.Process(target=_child, args=(page, out), daemon=True)
    proc.start()
    try:
        out.get(timeout=120)
        got: Timing = out.get(timeout=deadline_s)
        return got
    except queue.Empty:
        return None
    finally:
        proc.kill()
        proc.join()


def _secs(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def render(rows: list[tuple[Adversarial, Timing | None]], deadline_s: float) -> str:
    lines = [
        "| page | chars | bound markup s | parse s | clean_page s | clean_page CPU s | text chars "
        "| marker kept | truncated |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for page, t in rows:
        if t is None:
            over = f"over {deadline_s:.0f}"
            lines.append(f"| {page.name}: {page.what} | - | - | - | {over} | - | - | - | - |")
            continue
        lines.append(
            f"| {page.name}: {page.what} | {t.chars:,} | {_secs(t.bound_s)} | {_secs(t.parse_s)} "
            f"| {_secs(t.clean_s)} | {_secs(t.clean_cpu_s)} | {t.text_chars:,} "
            f"| {'yes' if t.keeps_marker else 'NO'} "
            f"| {t.truncated} |"
        )
    return "\n".join(lines) + "\n"


CLEANING_DEV = NER_DEV.parents[1] / "cleaning-dev" / "pages.jsonl"


def normal_pages() -> str:
    """What the markup bounds cost on ordinary pages, and that they leave them alone:
    cleaning-dev's HTML pages (when ../shared is there) and 300 bench-corpus pages."""
    try:
        from workers.clean.markup import bound_markup
    except ImportError:  # a build from before the bounds
        return ""
    sets: list[tuple[str, list[str]]] = []
    if CLEANING_DEV.exists():
        rows = (orjson.loads(line) for line in CLEANING_DEV.read_bytes().splitlines())
        sets.append(("cleaning-dev", [r["html"] for r in rows if r.get("html")]))
    sets.append(("bench corpus", [p["body"] for p in generate_pages(300, 1, "html")]))
    lines = []
    for name, pages in sets:
        changed = sum(bound_markup(html).html is not html for html in pages)
        best = min(_cpu_per_page(bound_markup, pages) for _ in range(3))
        size = sum(map(len, pages)) // len(pages)
        lines.append(
            f"markup bounds on {len(pages)} {name} pages ({size:,} chars on average): "
            f"{best * 1000:.3f} CPU-ms a page, {changed} page(s) changed"
        )
    return "\n".join(lines) + "\n"


def _cpu_per_page(fn: Callable[[str], Any], pages: list[str]) -> float:
    t0 = time.process_time()
    for html in pages:
        fn(html)
    return (time.process_time() - t0) / len(pages)


def run(deadline_s: float = 10.0, names: list[str] | None = None) -> str:
    """Time every page (or the named ones); returns the Markdown table, and the bounds' cost
    on ordinary pages when every page was asked for."""
    chosen = [p for p in PAGES if not names or p.name in names]
    rows = [(page, time_page(page, deadline_s)) for page in chosen]
    table = render(rows, deadline_s)
    return table if names else table + "\n" + normal_pages()
