"""The stage functions the worker runs in its guarded child processes (``guard``).

Plain functions of plain values (they cross a pipe): the agents decode and build records; these
do only the CPU-bound part, which is what needs a hard time bound.
"""

from __future__ import annotations

from typing import Any

from workers.clean import clean_page
from workers.contracts import RecordError
from workers.extract import EntityRow, get_extractor


def empty_text(chars: int, what: str, truncated: dict[str, Any] | None = None) -> RecordError:
    """The dead letter's error for a page with no text left (``empty_text``); when a size
    bound cut the page, the reason says so (the text may have been past the cut)."""
    reason = (
        f"no article text: the {what} of {chars:,} characters holds none after cleaning "
        "(markup, scripts, symbols, emoji or control characters only)"
    )
    if truncated:
        cuts = ", ".join(f"{k} {v}" for k, v in truncated.items())
        reason = f"no article text in what was read of the {what}: cut by {cuts}"
    return RecordError("empty_text", reason)


def clean_job(
    body: str, content_type: str | None
) -> tuple[str, str | None, str | None, dict[str, Any] | None]:
    """(text, title, published_at, truncated) of one page; a page whose text comes out empty
    is an ``empty_text`` error (dead-lettered), not an empty record."""
    page = clean_page(body, content_type)
    if not page.text.strip():
        raise empty_text(len(body), f"{content_type or 'page'} body", page.truncated)
    return page.text, page.title, page.published_at, page.truncated


def extract_job(text: str) -> list[EntityRow]:
    """The entities of one cleaned text, as plain tuples: they unpickle in C in the worker
    process, where ``Entity`` dataclasses went through ``dataclasses.fields`` and a setattr
    per field and object (``workers.extract.record.enriched_record`` takes the tuples). An empty
    text (a cleaned record from elsewhere) is an ``empty_text`` error too."""
    if not text.strip():
        raise empty_text(len(text), "cleaned text")
    return get_extractor().rows(text)


def warm_clean() -> None:
    """Import and exercise the HTML path once, so the first record pays no import time."""
    clean_page("<html><body><p>東京</p></body></html>", "text/html")
    clean_page("東京", "text/plain")


def warm_extract() -> None:
    """Load the dictionary and model before the first record's deadline starts."""
    get_extractor()("東京で会見した。")
