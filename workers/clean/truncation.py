"""What the clean stage's size bounds cut from a page, for the record's ``truncated`` field.

The cleaner bounds its work (``page.MAX_PAGE_CHARS``, ``normalize.MAX_LINES`` and
``MAX_LINE_CHARS``, ``readable.MAX_NODES``); whatever such a bound cuts is said in the cleaned
record, which the enriched record carries on, so nothing is cut silently. One key per bound that
cut something, each in its own unit, e.g.::

    {"line_chars": {"lines": 1, "original": 3000000, "kept": 20000}}

``None`` (the field is null) when nothing was cut: the record holds all the page's text.
"""

from __future__ import annotations

from typing import Any

#: The bounds, as they appear in ``truncated`` and in ``/metrics`` (label ``limit``).
LIMITS = ("page_bytes", "page_chars", "lines", "line_chars", "elements")


class Truncation:
    """Gathers the cuts made while one page is cleaned."""

    __slots__ = ("_cuts",)

    def __init__(self) -> None:
        self._cuts: dict[str, dict[str, int]] = {}

    def __bool__(self) -> bool:
        return bool(self._cuts)

    def page_bytes(self, original: int, kept: int) -> None:
        """Undecoded page bytes: ``original`` bytes, the first ``kept`` were decoded."""
        self._cuts["page_bytes"] = {"original": original, "kept": kept}

    def page(self, original: int, kept: int) -> None:
        """The page (decoded) had ``original`` characters; the first ``kept`` were read."""
        self._cuts["page_chars"] = {"original": original, "kept": kept}

    def lines(self, original: int, kept: int) -> None:
        """The text had ``original`` lines; the first ``kept`` were read."""
        self._cuts["lines"] = {"original": original, "kept": kept}

    def line(self, original: int, kept: int) -> None:
        """One line of ``original`` characters was cut to ``kept`` (summed over lines)."""
        cut = self._cuts.setdefault("line_chars", {"lines": 0, "original": 0, "kept": 0})
        cut["lines"] += 1
        cut["original"] += original
        cut["kept"] += kept

    def elements(self, kept: int) -> None:
        """The structural extractor read the first ``kept`` elements; the page has more."""
        self._cuts["elements"] = {"kept": kept}

    def update(self, other: Truncation) -> None:
        """Take over the cuts of ``other`` (a path whose output was the one used)."""
        for key, cut in other._cuts.items():
            if key == "line_chars" and key in self._cuts:
                mine = self._cuts[key]
                for field in ("lines", "original", "kept"):
                    mine[field] += cut[field]
            else:
                self._cuts[key] = dict(cut)

    def as_record(self) -> dict[str, Any] | None:
        """The ``truncated`` field: one object per bound that cut, or None."""
        return {key: dict(self._cuts[key]) for key in LIMITS if key in self._cuts} or None
