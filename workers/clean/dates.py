"""Publication dates as ISO 8601: from metadata strings and from date lines in page text.

Why: downstream wants one sortable format. A timezone is written only when the page gives one,
or when the date is written the Japanese way (年月日) on a Japanese page, where JST is the
convention; otherwise a naive time (or a bare date) is returned rather than a guessed offset.
"""

from __future__ import annotations

import re
from datetime import datetime

JST = "+09:00"

_TZ_ABBREV = {
    "UTC": "+00:00", "GMT": "+00:00", "Z": "+00:00", "JST": "+09:00", "KST": "+09:00",
    "CET": "+01:00", "CEST": "+02:00", "BST": "+01:00", "EST": "-05:00", "EDT": "-04:00",
    "CST": "-06:00", "CDT": "-05:00", "MST": "-07:00", "MDT": "-06:00", "PST": "-08:00",
    "PDT": "-07:00", "ET": "-05:00", "PT": "-08:00",
}  # fmt: skip
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        ("jan january", "feb february", "mar march", "apr april", "may", "jun june",
         "jul july", "aug august", "sep sept september", "oct october", "nov november",
         "dec december")
    )
    for m in names.split()
}  # fmt: skip

_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?)?"
)
_JA = re.compile(
    r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日(?:\s*[(（][^)）]{1,3}[)）])?"
    r"(?:\s*(\d{1,2})\s*[時:：]\s*(\d{1,2})\s*分?)?"
)
_TIME = (
    r"(?:[,:]?\s*(?:at\s+)?(\d{1,2}):(\d{2})(?::\d{2})?\s*([AaPp]\.?[Mm]\.?)?"
    r"\s*([A-Z]{1,4})?\b)?"
)
_MDY_NAME = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})" + _TIME)
_DMY_NAME = re.compile(r"\b(\d{1,2})\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})" + _TIME)
_MDY_NUM = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})" + _TIME)
_KANA = re.compile(r"[\u3040-\u30ff]")


def _iso(y: int, mo: int, d: int, h: int | None, mi: int | None, tz: str | None) -> str | None:
    try:
        stamp = datetime(y, mo, d, h or 0, mi or 0)
    except ValueError:
        return None
    if h is None:
        return stamp.date().isoformat()
    return stamp.isoformat() + (tz or "")


def _offset(tz: str | None) -> str | None:
    if not tz:
        return None
    if tz.upper() in _TZ_ABBREV:
        return _TZ_ABBREV[tz.upper()]
    digits = tz.replace(":", "")
    return f"{digits[:3]}:{digits[3:5]}" if len(digits) == 5 else None


def _hour(h: str | None, ampm: str | None) -> int | None:
    if h is None:
        return None
    hour = int(h) % 12 if ampm else int(h)
    return hour + 12 if ampm and ampm.lower().startswith("p") else hour


def parse_iso(value: str) -> str | None:
    """An ISO-like metadata value (``2024-06-20T02:39:00Z``) re-written as strict ISO 8601."""
    m = _ISO.search(value)
    if not m:
        return None
    y, mo, d, h, mi, _s, tz = m.groups()
    return _iso(int(y), int(mo), int(d), int(h) if h else None, int(mi) if mi else None,
                _offset(tz))  # fmt: skip


def _from_japanese(m: re.Match[str], japanese_page: bool) -> str | None:
    y, mo, d, h, mi = m.groups()
    hour, minute = (int(h), int(mi)) if h and mi else (None, None)
    return _iso(int(y), int(mo), int(d), hour, minute, JST if japanese_page else None)


def _from_named(y: str, mo_name: str, d: str, groups: tuple[str | None, ...]) -> str | None:
    month = _MONTHS.get(mo_name.lower())
    if month is None:
        return None
    h, mi, ampm, tz = groups
    return _iso(int(y), month, int(d), _hour(h, ampm), int(mi) if mi else None, _offset(tz))


def find_date(line: str, japanese_page: bool = False) -> str | None:
    """The first date written in a line of page text, as ISO 8601 (None if there is none)."""
    if m := _JA.search(line):
        return _from_japanese(m, japanese_page or bool(_KANA.search(line)))
    if m := _ISO.search(line):
        return parse_iso(m.group(0))
    if m := _MDY_NAME.search(line):
        return _from_named(m.group(3), m.group(1), m.group(2), m.groups()[3:])
    if m := _DMY_NAME.search(line):
        return _from_named(m.group(3), m.group(2), m.group(1), m.groups()[3:])
    if m := _MDY_NUM.search(line):
        mo, d, y, h, mi, ampm, tz = m.groups()
        return _iso(int(y), int(mo), int(d), _hour(h, ampm), int(mi) if mi else None, _offset(tz))
    return None
