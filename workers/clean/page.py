"""Entry point of the clean stage (first version: to be replaced by the full cleaner)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser as HTMLParser

_HTML_HINT = re.compile(r"<\s*(!doctype|html|head|body|div|p|article|span|a|br)\b", re.I)


@dataclass(frozen=True, slots=True)
class CleanedPage:
    text: str
    title: str | None
    published_at: str | None


def sniff_content_type(body: str) -> str:
    """Guess text/html vs text/plain from the first few KB of the body."""
    return "text/html" if _HTML_HINT.search(body[:4096]) else "text/plain"


def clean_page(body: str, content_type: str | None = None) -> CleanedPage:
    """Return the article text of one page, paragraphs separated by newlines."""
    kind = content_type or sniff_content_type(body)
    if kind == "text/html":
        tree = HTMLParser(body)
        title_node = tree.css_first("title")
        title = title_node.text(strip=True) if title_node else None
        for node in tree.css("script, style, noscript, nav, header, footer, aside"):
            node.decompose()
        root = tree.body or tree.root
        raw = root.text(separator="\n") if root else ""
    else:
        raw, title = body, None
    lines = [unicodedata.normalize("NFKC", ln).strip() for ln in raw.splitlines()]
    lines = [ln for ln in lines if ln]
    if title is None and lines:
        title = lines[0]
    return CleanedPage(text="\n".join(lines), title=title, published_at=None)
