"""The stage functions the worker runs in its guarded child processes (``workers.guard``).

Plain functions of plain values (they cross a pipe): the agents decode and build records; these
do only the CPU-bound part, which is what needs a hard time bound.
"""

from __future__ import annotations

from typing import Any

from workers.clean import clean_page
from workers.extract import EntityRow, get_extractor


def clean_job(
    body: str, content_type: str | None
) -> tuple[str, str | None, str | None, dict[str, Any] | None]:
    """(text, title, published_at, truncated) of one page."""
    page = clean_page(body, content_type)
    return page.text, page.title, page.published_at, page.truncated


def extract_job(text: str) -> list[EntityRow]:
    """The entities of one cleaned text, as plain tuples: they unpickle in C in the worker
    process, where ``Entity`` dataclasses went through ``dataclasses.fields`` and a setattr
    per field and object (``workers.records.enriched_record`` takes the tuples)."""
    return get_extractor().rows(text)


def warm_clean() -> None:
    """Import and exercise the HTML path once, so the first record pays no import time."""
    clean_page("<html><body><p>東京</p></body></html>", "text/html")
    clean_page("東京", "text/plain")


def warm_extract() -> None:
    """Load the dictionary and model before the first record's deadline starts."""
    get_extractor()("東京で会見した。")
