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


def split_open_bracket(tokens: Tokens, spans: list[Span], pos: PosName) -> list[Span]:
    """Cut a span at a bracket it opens but never closes: キングス・カレッジ(ロンドン -> 2 names.

    The part inside the bracket is kept only when Sudachi knows it as a place or person name.
    """
    out: list[Span] = []
    for a, b, tag in spans:
        depth_at = None
        depth = 0
        for i in range(a, b):
            s = tokens.surface[i]
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
        if tag == "ORG" and b - a >= 3 and pos(tokens.pos[a])[2] == "人名" \
                and shape(tokens.surface[a]) == "K":
            for k in (a + 1, a + 2):
                if k < b - 1 and pos(tokens.pos[k])[2] == "地名" \
                        and all(shape(tokens.surface[j]) == "K" for j in range(a, k)):
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
    for a, b, tag in spans:
        while a < b and pos(tokens.pos[a])[0] in ("補助記号", "空白"):
            a += 1
        while b > a and pos(tokens.pos[b - 1])[0] in ("補助記号", "空白") \
                and tokens.surface[b - 1] not in _CLOSE:
            b -= 1
        if a < b:
            out.append((a, b, tag))
    return out


def join_katakana_dots(tokens: Tokens, spans: list[Span], pos: PosName) -> list[Span]:
    """Katakana names joined by ・ are one name: キングス + ・カレッジ -> キングス・カレッジ."""
    if "・" not in tokens.surface and "･" not in tokens.surface:
        return spans
    out: list[Span] = []
    taken = {i for a, b, _ in spans for i in range(a, b)}
    n = len(tokens)
    for a, b, tag in spans:
        while b + 1 < n and tokens.surface[b] in ("・", "･") and b not in taken \
                and b + 1 not in taken and shape(tokens.surface[b + 1]) == "T" \
                and shape(tokens.surface[b - 1]) == "T":
            b += 2
        while a >= 2 and tokens.surface[a - 1] in ("・", "･") and a - 1 not in taken \
                and a - 2 not in taken and shape(tokens.surface[a - 2]) == "T" \
                and shape(tokens.surface[a]) == "T":
            a -= 2
        out.append((a, b, tag))
    return out


def place_not_person(tokens: Tokens, spans: list[Span], pos: PosName) -> list[Span]:
    """A lone token Sudachi lists as a place is a place, unless a title follows (ワシントン氏)."""
    out: list[Span] = []
    for a, b, tag in spans:
        if tag == "PER" and b - a == 1 and pos(tokens.pos[a])[2] == "地名" \
                and (b >= len(tokens) or tokens.surface[b] not in TITLES):
            tag = "LOC"
        out.append((a, b, tag))
    return out


def direction_places(tokens: Tokens, spans: list[Span], pos: PosName) -> list[Span]:
    """Compass word + place name is a region: 北東 + アジア -> 北東アジア (LOCATION)."""
    surface = tokens.surface
    if DIRECTIONS.isdisjoint(surface):
        return spans
    starts = {a: k for k, (a, _, _) in enumerate(spans)}
    taken = {i for a, b, _ in spans for i in range(a, b)}
    out = list(spans)
    for i in range(len(tokens) - 1):
        if surface[i] not in DIRECTIONS or i in taken or pos(tokens.pos[i + 1])[2] != "地名":
            continue
        k = starts.get(i + 1)
        if k is not None:
            _, b, tag = out[k]
            out[k] = (i, b, tag)
        elif i + 1 not in taken:
            out.append((i, i + 2, "LOC"))
    return sorted(out)


# The rules in the order they run (see workers.extract.entities for the whole pipeline).
SPAN_RULES: tuple[SpanRule, ...] = (
    split_open_bracket,
    join_katakana_dots,
    split_person_prefix,
    place_not_person,
    direction_places,
    strip_titles,
    drop_punctuation_edges,
)
