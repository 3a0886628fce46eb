"""Canonical names: one key per real-world entity within an article, for the count tables.

A mention's own form is NFKC over Sudachi's normalized form (ＮＡＴＯ -> NATO, ヴェネツィア ->
ベネチア). Then, within one article, a later short mention joins an earlier full name of the
same type: プーチン after ウラジーミル・プーチン, 金 (from 金総書記) after 金正恩, 労働党 after
朝鮮労働党. Titles never reach here: rules.strip_titles removed them from the spans.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(slots=True)
class Mention:
    start: int
    end: int
    type: str
    text: str
    normalized: str


def own_form(surfaces: Sequence[str], norms: Sequence[str]) -> str:
    """NFKC of the tokens' Sudachi normalized forms, keeping the writer's letter case."""
    parts: list[str] = []
    nfkc = unicodedata.normalize
    for s, n in zip(surfaces, norms, strict=True):
        surface = nfkc("NFKC", s)
        if n == s:  # the common case: nothing to compare
            parts.append(surface)
            continue
        norm = nfkc("NFKC", n)
        # Sudachi lower-cases latin letters; that is not a different name.
        parts.append(surface if norm.lower() == surface.lower() else norm)
    return "".join(parts)


def _parts(name: str) -> list[str]:
    return [p for p in name.replace("=", "・").replace("･", "・").split("・") if p]


def _is_alias(short: str, full: str, kind: str) -> bool:
    """Whether `short` can stand for `full` later in the same article."""
    if len(short) >= len(full):
        return False
    if kind == "PERSON":
        # family or given name of a ・-joined name, or the leading surname of a kanji name
        return short in _parts(full)[1:] or short == _parts(full)[0] or full.startswith(short)
    return len(short) >= 2 and (full.endswith(short) or full.startswith(short))


def resolve_aliases(mentions: list[Mention]) -> list[Mention]:
    """Give each later short mention the canonical name of the earlier full one it abbreviates.

    Among several candidates the longest earlier name wins; an ambiguous short name (two
    different full names fit equally) keeps its own form.
    """
    seen: dict[str, list[str]] = {}
    # Per type, the names so far in one string. An alias is a prefix, suffix or ・-part of its
    # full name, so always a substring: one `in` over this string rules out most mentions
    # before the pairwise checks (which were most of this function's time).
    joined: dict[str, str] = {}
    for m in mentions:
        names = seen.setdefault(m.type, [])
        fits = (
            [f for f in names if _is_alias(m.normalized, f, m.type)]
            if m.normalized in joined.get(m.type, "")
            else []
        )
        if fits:
            best = max(len(f) for f in fits)
            longest = {f for f in fits if len(f) == best}
            if len(longest) == 1:
                m.normalized = longest.pop()
                continue
        if m.normalized not in names:
            names.append(m.normalized)
            joined[m.type] = joined.get(m.type, "") + "\n" + m.normalized
    return mentions
