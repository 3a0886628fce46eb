"""Span rules: small, general fixes applied to the model's token spans, one job each.

Each rule takes (tokens, spans, pos_name) and returns new spans. They fix what a token-level
model gets structurally wrong, using Sudachi POS and generic lexicon knowledge only. Tokens are
parallel lists (tokens.surface[i], tokens.pos[i]); rules only look near spans, except
direction_places, which first checks that the text has a compass word at all.
"""

from __future__ import annotations

from collections.abc import Callable

from workers.extract.features import shape
from workers.extract.lexicon import DIRECTIONS, TITLES
from workers.extract.model import Span
from workers.extract.tokens import Tokens

PosName = Callable[[int], tuple[str, ...]]
SpanRule = Callable[[Tokens, list[Span], PosName], list[Span]]

_OPEN = "(（「『【［[〈《<＜"
_CLOSE = ")）」』】］]〉》>＞"
# Every str s for which `s in _OPEN` holds (its substrings, "" too): that test as a set, so a
# span with no opener (nearly all) passes split_open_bracket in one C-level isdisjoint.
_OPEN_PARTS = frozenset(_OPEN[i:j] for i in range(len(_OPEN)) for j in range(i, len(_OPEN) + 1))
_DOTS = ("・", "･")
_EDGE_POS = ("補助記号", "空白")


def _indices(items: list[str], value: str) -> list[int]:
    """Every index of value in items (list.index scans in C: rare words, long lists)."""
    out: list[int] = []
    i = -1
    try:
        while True:
            i = items.index(value, i + 1)
            out.append(i)
    except ValueError:
        return out


def split_open_bracket(tokens: Tokens, spans: list[Span], pos: PosName) -> list[Span]:
    """Cut a span at a bracket it opens but never closes: キングス・カレッジ(ロンドン -> 2 names.

    The part inside the bracket is kept only when Sudachi knows it as a place or person name.
    """
    out: list[Span] = []
    surface = tokens.surface
    for a, b, tag in spans:
        if _OPEN_PARTS.isdisjoint(surface[a:b]):  # no opener: the loop below keeps it as is
            out.append((a, b, tag))
            continue
        depth_at = None
        depth = 0
        for i in range(a, b):
            s = surface[i]
            if s in _OPEN:
                if depth == 0:
                    depth_at = i
                depth += 1
            elif s in _CLOSE and depth:
                depth -= 1
        if depth == 0 or depth_at is None:
            out.append((a, b, tag))
            continue
        if depth_at > a:
            out.append((a, depth_at, tag))
        inner = range(depth_at + 1, b)
        if len(inner) == 1:
            kind = pos(tokens.pos[inner[0]])[2]
            if kind in ("地名", "人名"):
                out.append((inner[0], b, "LOC" if kind == "地名" else "PER"))
    return out


def split_person_prefix(tokens: Tokens, spans: list[Span], pos: PosName) -> list[Span]:
    """Split a leading person name off an organisation: 金正恩朝鮮労働党 -> 金正恩 + 朝鮮労働党.

    Japanese news puts a leader's name right before the body they lead. Fires when the span
    starts with a Sudachi person name in kanji, a place name follows within two tokens, and
    the span goes on past it (an organisation named after a place).
    """
    out: list[Span] = []
    for a, b, tag in spans:
        if (
            tag == "ORG"
            and b - a >= 3
            and pos(tokens.pos[a])[2] == "人名"
            and shape(tokens.surface[a]) == "K"
        ):
            for k in (a + 1, a + 2):
                if (
                    k < b - 1
                    and pos(tokens.pos[k])[2] == "地名"
                    and all(shape(tokens.surface[j]) == "K" for j in range(a, k))
                ):
                    out.extend(((a, k, "PER"), (k, b, tag)))
                    break
            else:
                out.append((a, b, tag))
        else:
            out.append((a, b, tag))
    return out


def strip_titles(tokens: Tokens, spans: list[Span], pos: PosName) -> list[Span]:
    """A person mention ends before its title or honorific: プーチン大統領 -> プーチン."""
    out: list[Span] = []
    for a, b, tag in spans:
        if tag == "PER":
            while b - a > 1 and tokens.surface[b - 1] in TITLES:
                b -= 1
        out.append((a, b, tag))
    return out


def drop_punctuation_edges(tokens: Tokens, spans: list[Span], pos: PosName) -> list[Span]:
    """Names do not start or end with punctuation or spaces (・ inside is fine)."""
    out: list[Span] = []
    tpos, surface = tokens.pos, tokens.surface
    for a, b, tag in spans:
        while a < b and pos(tpos[a])[0] in _EDGE_POS:
            a += 1
        while b > a and pos(tpos[b - 1])[0] in _EDGE_POS and surface[b - 1] not in _CLOSE:
            b -= 1
        if a < b:
            out.append((a, b, tag))
    return out


def join_katakana_dots(tokens: Tokens, spans: list[Span], pos: PosName) -> list[Span]:
    """Katakana names joined by ・ are one name: キングス + ・カレッジ -> キングス・カレッジ."""
    surface = tokens.surface
    if "・" not in surface and "･" not in surface:
        return spans
    n = len(tokens)
    # Only a span right before or after a dot can grow: without one, skip building `taken`.
    if not any(
        (b + 1 < n and surface[b] in _DOTS) or (a >= 2 and surface[a - 1] in _DOTS)
        for a, b, _ in spans
    ):
        return spans
    out: list[Span] = []
    taken = {i for a, b, _ in spans for i in range(a, b)}
    for a, b, tag in spans:
        while (
            b + 1 < n
            and surface[b] in _DOTS
            and b not in taken
            and b + 1 not in taken
            and shape(surface[b + 1]) == "T"
            and shape(surface[b - 1]) == "T"
        ):
            b += 2
        while (
            a >= 2
            and surface[a - 1] in _DOTS
            and a - 1 not in taken
            and a - 2 not in taken
            and shape(surface[a - 2]) == "T"
            and shape(surface[a]) == "T"
        ):
            a -= 2
        out.append((a, b, tag))
    return out


def place_not_person(tokens: Tokens, spans: list[Span], pos: PosName) -> list[Span]:
    """A lone token Sudachi lists as a place is a place, unless a title follows (ワシントン氏)."""
    out: list[Span] = []
    for a, b, tag in spans:
        if (
            tag == "PER"
            and b - a == 1
            and pos(tokens.pos[a])[2] == "地名"
            and (b >= len(tokens) or tokens.surface[b] not in TITLES)
        ):
            tag = "LOC"
        out.append((a, b, tag))
    return out


def direction_places(tokens: Tokens, spans: list[Span], pos: PosName) -> list[Span]:
    """Compass word + place name is a region: 北東 + アジア -> 北東アジア (LOCATION)."""
    surface, tpos = tokens.surface, tokens.pos
    found = DIRECTIONS.intersection(surface)
    if not found:
        return spans
    last = len(tokens) - 1
    # compass words before a place name, found by list.index (in C), not a loop over all tokens
    hits = sorted(
        i
        for word in found
        for i in _indices(surface, word)
        if i < last and pos(tpos[i + 1])[2] == "地名"
    )
    if not hits:
        return sorted(spans)  # what the loop below gives when nothing changes
    starts = {a: k for k, (a, _, _) in enumerate(spans)}
    taken = {i for a, b, _ in spans for i in range(a, b)}
    out = list(spans)
    for i in hits:
        if i in taken:
            continue
        k = starts.get(i + 1)
        if k is not None:
            _, b, tag = out[k]
            out[k] = (i, b, tag)
        elif i + 1 not in taken:
            out.append((i, i + 2, "LOC"))
    return sorted(out)


#: Names longer than this (characters) are not names. The longest gold entity of an emitted
#: type in ner-dev is 43 characters (a station, 施設名 -> LOCATION; ORGANIZATION 35, PERSON 23,
#: 地名 20); this is more than twice that. What it stops is a run the tagger reads as one name,
#: e.g. a word a page repeats thousands of times (岸田岸田…, 20,007 characters).
MAX_NAME_CHARS = 100


def drop_overlong(tokens: Tokens, spans: list[Span], pos: PosName) -> list[Span]:
    """Spans longer than ``MAX_NAME_CHARS`` characters are not names: dropped before they
    become entities (or the full name that shorter mentions are resolved to)."""
    surface = tokens.surface
    # a token is at least one character, so a span of more tokens than the bound is too long
    # without summing its surfaces
    return [
        (a, b, tag)
        for a, b, tag in spans
        if b - a <= MAX_NAME_CHARS and sum(map(len, surface[a:b])) <= MAX_NAME_CHARS
    ]


# The rules in the order they run (see workers.extract.entities for the whole pipeline).
SPAN_RULES: tuple[SpanRule, ...] = (
    split_open_bracket,
    join_katakana_dots,
    split_person_prefix,
    place_not_person,
    direction_places,
    strip_titles,
    drop_punctuation_edges,
    drop_overlong,
)
