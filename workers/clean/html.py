"""HTML pages: main text by Readability-style scoring, title and date from the page's metadata.

The page is parsed once with selectolax (lexbor); metadata and the main text both come from that
tree. Main text: ``readable.extract`` (Readability's algorithm on a compact copy of the DOM).
When it finds no article container (its best candidate is the whole <body>: tiny pages, text
directly in <body>, pages it cannot read), Resiliparse's main-content mode, trimmed to its prose
lines, decides instead (better than dumping the whole body there). Chosen by measurement on
cleaning-dev against trafilatura and readability-lxml, more accurate and faster than both
(figures: docs/benchmark.md, "Measurements behind the code").
"""

from __future__ import annotations

import re
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from workers.clean import readable
from workers.clean.boilerplate import find_body, prose_bounds, word_units
from workers.clean.markup import bound_markup
from workers.clean.metadata import PageMeta, normalize_published, strip_site_name
from workers.clean.normalize import page_lines
from workers.clean.truncation import Truncation

_TITLE_METAS = ("og:title", "twitter:title", "title", "headline")
_DATE_METAS = (
    "article:published_time", "datepublished", "og:published_time", "pubdate", "publishdate",
    "date", "dc.date", "dc.date.issued", "sailthru.date", "parsely-pub-date",
)  # fmt: skip
_LD_DATE = re.compile(rb'"datePublished"\s*:\s*"([^"]{8,40})"')
_JA_LANG = re.compile(r"^ja\b", re.I)


#: An <h1> longer than this (word units) is not taken for the title.
MAX_TITLE_UNITS = 40.0
#: Below this many word units, main-content mode is taken to have missed the article.
MIN_MAIN_UNITS = 25.0


def _plain_lines(html: str, main_content: bool, cuts: Truncation) -> list[str]:
    from resiliparse.extract.html2text import extract_plain_text  # only for the few fallbacks

    text = extract_plain_text(html, main_content=main_content, alt_texts=False, links=False)
    return page_lines(text, cuts)


def _has_units(lines: list[str], minimum: float) -> bool:
    total = 0.0
    for line in lines:
        total += word_units(line)
        if total >= minimum:
            return True
    return False


def resiliparse_lines(html: str, cuts: Truncation | None = None) -> list[str]:
    """The article of a page by Resiliparse, one normalized block per line.

    Resiliparse's main-content mode, trimmed to its first..last prose line; when that mode
    keeps (almost) nothing, the page's whole text goes through the flattened-text filter, and
    when that finds no article either, a tiny page is its own content. What the line bounds
    cut from the text used goes to ``cuts``.
    """
    main_cuts, every_cuts = Truncation(), Truncation()
    lines = _plain_lines(html, True, main_cuts)
    used, chosen = main_cuts, lines
    if _has_units(lines, MIN_MAIN_UNITS):
        start, end = prose_bounds(lines)
        chosen = lines[start:end] or lines
    else:
        every_line = _plain_lines(html, False, every_cuts)
        kept = [every_line[i] for i in find_body(every_line).kept]
        if kept:
            used, chosen = every_cuts, kept
    if cuts is not None:
        cuts.update(used)
    return chosen


def _meta_values(tree: LexborHTMLParser) -> dict[str, str]:
    values: dict[str, str] = {}
    for node in tree.css("meta[content]"):
        attrs = node.attributes
        key = attrs.get("property") or attrs.get("name") or attrs.get("itemprop")
        content = attrs.get("content")
        if key and content and key.lower() not in values:
            values[key.lower()] = content.strip()
    return values


def _first(values: dict[str, str], keys: tuple[str, ...]) -> str | None:
    return next((values[k] for k in keys if values.get(k)), None)


def _json_ld_date(tree: LexborHTMLParser) -> str | None:
    for node in tree.css('script[type="application/ld+json"]'):
        m = _LD_DATE.search(node.text().encode())
        if m:
            return m.group(1).decode()
    return None


def _node_text(tree: LexborHTMLParser, selector: str) -> str | None:
    node = tree.css_first(selector)
    text = node.text(strip=True) if node is not None else ""
    return text or None


def _time_attr(tree: LexborHTMLParser) -> str | None:
    node = tree.css_first("time[datetime]")
    value: Any = node.attributes.get("datetime") if node is not None else None
    return value if isinstance(value, str) else None


def html_meta(tree: LexborHTMLParser) -> PageMeta:
    """Title (og/twitter title, else <h1>, else <title> without the site name) and date."""
    metas = _meta_values(tree)
    html_node = tree.css_first("html")
    lang = (html_node.attributes.get("lang") or "") if html_node is not None else ""
    japanese = bool(_JA_LANG.match(lang))
    title = _first(metas, _TITLE_METAS)
    if title is None and (h1 := _node_text(tree, "h1")) and word_units(h1) <= MAX_TITLE_UNITS:
        title = h1  # a longer <h1> is markup left open around the article, not a headline
    if title is None and (page_title := _node_text(tree, "title")):
        title = strip_site_name(page_title)
    raw_date = _first(metas, _DATE_METAS) or _json_ld_date(tree) or _time_attr(tree)
    return PageMeta(title, normalize_published(raw_date, japanese))


def parse(html: str) -> LexborHTMLParser:
    """Parse with lexbor (tolerant of any malformed markup)."""
    return LexborHTMLParser(html)


def extract_page(html: str, cuts: Truncation | None = None) -> tuple[PageMeta, list[str]]:
    """Metadata and article lines of a page, from one parse: the structural extractor, or
    Resiliparse when the extractor falls back to the whole body (it found no container).

    Both parsers get the markup with its nesting, formatting elements and attributes bounded
    first (``markup.bound_markup``): their tree building is superlinear past those bounds.
    A page too big for the extractor's bounds (``readable.MAX_NODES``) is not handed to
    Resiliparse either, whose time grows with the whole page: the extractor's lines are used,
    and the cut is said in ``cuts``."""
    html = bound_markup(html).html
    tree = parse(html)
    meta = html_meta(tree)
    found = readable.extract(tree, meta.title)
    if not found.complete:
        if cuts is not None:
            cuts.elements(found.elements)
        return meta, found.lines
    if found.fallback_body:
        return meta, resiliparse_lines(html, cuts)
    return meta, found.lines
