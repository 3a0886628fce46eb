"""Title and publication date of a page, from its text lines or from its HTML head.

Why two sources: flattened pages have no markup, so the headline is found by position (news
pages put it just above the article, usually right above the date line) and by shape (a
title-length line without sentence-final punctuation); HTML pages say it in meta tags.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from workers.clean.boilerplate import word_units
from workers.clean.dates import find_date, parse_iso

#: How many lines above the article are searched for the headline and the date.
LOOKBACK_LINES = 15
_TITLE_UNITS = (4.0, 40.0)
_CLAUSE_END = re.compile(r"[。．.!?！？]\s*$")
_KANA = re.compile(r"[\u3040-\u30ff]")
_SITE_SUFFIX = re.compile(r"\s+[|｜–—-]\s+[^|｜–—-]{1,40}$")


@dataclass(frozen=True, slots=True)
class PageMeta:
    """What the page says about itself."""

    title: str | None = None
    published_at: str | None = None


def is_japanese(lines: Sequence[str]) -> bool:
    """Japanese pages carry kana; used to apply the JST convention to 年月日 dates."""
    return any(_KANA.search(line) for line in lines[:200])


def _title_like(line: str) -> bool:
    low, high = _TITLE_UNITS
    return low <= word_units(line) <= high and not _CLAUSE_END.search(line)


def title_from_lines(lines: Sequence[str], body_start: int, date_index: int | None) -> str | None:
    """The headline: the title-like line just above the date line, else the longest
    title-like line in the lines above the article."""
    if date_index is not None:
        for i in range(date_index - 1, max(-1, date_index - 4), -1):
            if _title_like(lines[i]) and find_date(lines[i]) is None:
                return lines[i]
    window = range(max(0, body_start - LOOKBACK_LINES), body_start)
    candidates = [lines[i] for i in window if _title_like(lines[i]) and not find_date(lines[i])]
    return max(candidates, key=word_units, default=None)


def date_line_index(lines: Sequence[str], body_start: int, japanese: bool) -> int | None:
    """Index of the first line near the top of the article that carries a date."""
    for i in range(max(0, body_start - LOOKBACK_LINES), min(len(lines), body_start + 3)):
        if word_units(lines[i]) <= 20 and find_date(lines[i], japanese):
            return i
    return None


def meta_from_lines(lines: Sequence[str], body_start: int) -> PageMeta:
    """Title and date of a flattened page whose article starts at ``body_start``."""
    japanese = is_japanese(lines)
    date_index = date_line_index(lines, body_start, japanese)
    published = find_date(lines[date_index], japanese) if date_index is not None else None
    return PageMeta(title_from_lines(lines, body_start, date_index), published)


def strip_site_name(title: str) -> str:
    """``Headline | Site`` -> ``Headline`` (a <title> usually carries the site name)."""
    stripped = _SITE_SUFFIX.sub("", title).strip()
    return stripped if word_units(stripped) >= 2 else title


def normalize_published(value: str | None, japanese: bool) -> str | None:
    """A metadata date string (ISO or written out) as ISO 8601."""
    if not value:
        return None
    return parse_iso(value) or find_date(value, japanese)
