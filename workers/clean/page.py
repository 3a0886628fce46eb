"""Entry point of the clean stage: the one place where the components are composed.

    bytes --charset.decode_page--> str --(bounded)--> HTML or flattened text
    HTML:  html.extract_page: one lexbor parse -> title, date; readable.extract -> lines
           (Resiliparse when the structural extractor finds no article container)
    text:  lines -> boilerplate.find_body -> kept lines ; metadata.meta_from_lines
    both:  normalize (NFKC per line, after selection) -> CleanedPage

NFKC placement: lines are NFKC-normalized before the text filter looks at them and that
normalized form is what ``CleanedPage.text`` holds, so entity offsets computed downstream are
offsets into the normalized text (see ``normalize``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from workers.clean import html as html_path
from workers.clean.boilerplate import find_body
from workers.clean.charset import MAX_PAGE_BYTES, decode_page
from workers.clean.metadata import PageMeta, meta_from_lines
from workers.clean.normalize import join_lines, normalize_line, page_lines
from workers.clean.truncation import Truncation

_HTML_HINT = re.compile(r"<\s*(!doctype|html|head|body|div|p|article|span|a|br)\b", re.I)

#: Pages are cut to this many characters before parsing (bounded time on huge pages); the
#: cut is said in the record (``truncated.page_chars``).
MAX_PAGE_CHARS = MAX_PAGE_BYTES


@dataclass(frozen=True, slots=True)
class CleanedPage:
    text: str
    title: str | None
    published_at: str | None
    #: What the size bounds cut (``truncation.Truncation.as_record``), None when nothing.
    truncated: dict[str, Any] | None = None


def sniff_content_type(body: str) -> str:
    """Guess text/html vs text/plain from the first few KB of the body."""
    return "text/html" if _HTML_HINT.search(body[:4096]) else "text/plain"


def _bounded(page: str, cuts: Truncation) -> str:
    if len(page) > MAX_PAGE_CHARS:
        cuts.page(len(page), MAX_PAGE_CHARS)
        return page[:MAX_PAGE_CHARS]
    return page


def clean_text_page(text: str, cuts: Truncation | None = None) -> CleanedPage:
    """A page already flattened to text, one block per line."""
    cuts = Truncation() if cuts is None else cuts
    lines = page_lines(_bounded(text, cuts), cuts)
    body = find_body(lines)
    meta = meta_from_lines(lines, body.start) if lines else PageMeta()
    # page_lines already normalized them and normalize_line is idempotent (tests/clean)
    text = "\n".join([lines[i] for i in body.kept])
    return CleanedPage(text, meta.title, meta.published_at, cuts.as_record())


def clean_html_page(html: str, cuts: Truncation | None = None) -> CleanedPage:
    """A raw HTML page."""
    cuts = Truncation() if cuts is None else cuts
    meta, lines = html_path.extract_page(_bounded(html, cuts), cuts)
    title = normalize_line(meta.title) if meta.title else None
    return CleanedPage(join_lines(lines), title or None, meta.published_at, cuts.as_record())


def clean_page(body: str, content_type: str | None = None) -> CleanedPage:
    """Return the article text of one page, paragraphs separated by newlines, and what the
    size bounds cut from it (``CleanedPage.truncated``)."""
    return _clean(body, content_type, Truncation())


def _clean(body: str, content_type: str | None, cuts: Truncation) -> CleanedPage:
    kind = content_type or sniff_content_type(body)
    if not body.strip():
        return CleanedPage("", None, None, cuts.as_record())
    if kind == "text/html":
        return clean_html_page(body, cuts)
    return clean_text_page(body, cuts)


def clean_page_bytes(
    raw: bytes, content_type: str | None = None, declared_charset: str | None = None
) -> CleanedPage:
    """Like ``clean_page`` for undecoded bytes: charset from BOM, header, <meta> or guessing
    (the bytes are cut to ``MAX_PAGE_BYTES`` first, said as ``truncated.page_bytes``)."""
    cuts = Truncation()
    if len(raw) > MAX_PAGE_BYTES:
        cuts.page_bytes(len(raw), MAX_PAGE_BYTES)
    return _clean(decode_page(raw, declared_charset), content_type, cuts)
