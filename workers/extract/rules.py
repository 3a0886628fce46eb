"""Span rules: small, general fixes applied to the model's token spans, one job each.

Each rule takes (tokens, spans, pos_name) and returns new spans. They fix what a token-level
model gets structurally wrong, using Sudachi POS and generic lexicon knowledge only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from workers.extract.features import shape
from workers.extract.lexicon import TITLES
from workers.extract.model import Span
from workers.extract.tokens import Token

PosName = Callable[[int], tuple[str, ...]]
SpanRule = Callable[[Sequence[Token], list[Span], PosName], list[Span]]

_OPEN = "(（「『【［[〈《<＜"
_CLOSE = ")）」』】］]〉》>＞"


def split_open_bracket(tokens: Sequence[Token], spans: list[Span], pos: PosName) -> list[Span]:
    """Cut a span at a bracket it opens but never closes: キングス・カレッジ(ロンドン -> 2 names.

    The part inside the bracket is kept only when Sudachi knows it as a place or person name.
    """
    out: list[Span] = []
    for a, b, tag in spans:
        depth_at = None
        depth = 0
        for i in range(a, b):
            s = tokens[i].surface
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
            kind = pos(tokens[inner[0]].pos)[2]
            if kind in ("地名", "人名"):
                out.append((inner[0], b, "LOC" if kind == "地名" else "PER"))
    return out


def split_person_prefix(tokens: Sequence[Token], spans: list[Span], pos: PosName) -> list[Span]:
    """Split a leading person name off an organisation: 金正恩朝鮮労働党 -> 金正恩 + 朝鮮労働党.

    Japanese news puts a leader's name right before the body they lead. Fires when the span
    starts with a Sudachi person name in kanji, a place name follows within two tokens, and
    the span goes on past it (an organisation named after a place).
    """
    out: list[Span] = []
    for a, b, tag in spans:
        if tag == "ORG" and b - a >= 3 and pos(tokens[a].pos)[2] == "人名" \
                and shape(tokens[a].surface) == "K":
            for k in (a + 1, a + 2):
                if k < b - 1 and pos(tokens[k].pos)[2] == "地名" \
                        and all(shape(tokens[j].surface) == "K" for j in range(a, k)):
                    out.extend(((a, k, "PER"), (k, b, tag)))
                    break
            else:
                out.append((a, b, tag))
        else:
            out.append((a, b, tag))
    return out


def strip_titles(tokens: Sequence[Token], spans: list[Span], pos: PosName) -> list[Span]:
    """A person mention ends before its title or honorific: プーチン大統領 -> プーチン."""
    out: list[Span] = []
    for a, b, tag in spans:
        if tag == "PER":
            while b - a > 1 and tokens[b - 1].surface in TITLES:
                b -= 1
        out.append((a, b, tag))
    return out


def drop_punctuation_edges(tokens: Sequence[Token], spans: list[Span], pos: PosName) -> list[Span]:
    """Names do not start or end with punctuation or spaces (・ inside is fine)."""
    out: list[Span] = []
    for a, b, tag in spans:
        while a < b and pos(tokens[a].pos)[0] in ("補助記号", "空白"):
            a += 1
        while b > a and pos(tokens[b - 1].pos)[0] in ("補助記号", "空白") \
                and tokens[b - 1].surface not in _CLOSE:
            b -= 1
        if a < b:
            out.append((a, b, tag))
    return out


# The rules in the order they run (see workers.extract.entities for the whole pipeline).
SPAN_RULES: tuple[SpanRule, ...] = (
    split_open_bracket,
    split_person_prefix,
    strip_titles,
    drop_punctuation_edges,
)
