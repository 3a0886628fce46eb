"""Span rules: small, general fixes applied to the model's token spans, one job each.

Each rule takes (tokens, spans, pos_name) and returns new spans. They fix what a token-level
model gets structurally wrong, using Sudachi POS and generic lexicon knowledge only. Tokens are
parallel lists (tokens.surface[i], tokens.pos[i]); rules only look near spans, except
direction_places, which first checks that the text has a compass word at all.
"""

from __future__ import annotations

from collections.abc import Callable

from workers.extract.features import shape
from workers.extract.lexicon import DIRECTIONS, NAME_HEADS, PERSON_TITLES, TITLES
from workers.extract.model import Span
from workers.extract.tokens import Tokens
from workers.extract.words import WORDS

PosName = Callable[[int], tuple[str, ...]]
SpanRule = Callable[[Tokens, list[Span], PosName], list[Span]]

_OPEN = "(（「『【［[〈《<＜"
_CLOSE = ")）」』】］]〉》>＞"
# Every str s for which `s in _OPEN` holds (its substrings, "" too): that test as a set, so a
# span with no opener (nearly all) passes split_open_bracket in one C-level isdisjoint.
_OPEN_PARTS = frozenset(_OPEN[i:j] for i in range(len(_OPEN)) for j in range(i, len(_OPEN) + 1))
_DOTS = ("・", "･")
_EDGE_POS = ("補助記号", "空白")
_EVERYDAY_SHAPES = frozenset({"K", "H", "T", "KH", "HK", "TK", "KT"})

# The word classes the rules' first tests ask for (workers.extract.words): a text without one
# of these words is left as it is by the rule, at the cost of one bit test.
_HAS_OPENER = WORDS.bit("in", _OPEN_PARTS)
_HAS_PERSON_TITLE = WORDS.bit("in", PERSON_TITLES)
_HAS_TITLE = WORDS.bit("in", TITLES)
_HAS_DOT = WORDS.bit("in", _DOTS)
_HAS_DIRECTION = WORDS.bit("in", DIRECTIONS)
_HAS_SO = WORDS.bit("last", "相")  # a minister's post (デジタル相)


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
    if not tokens.words & _HAS_OPENER:
        return spans  # no opener in the text: the loop below would keep every span as is
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
    if not tokens.words & _HAS_TITLE:
        return spans
    out: list[Span] = []
    for a, b, tag in spans:
        if tag == "PER":
            while b - a > 1 and tokens.surface[b - 1] in TITLES:
                b -= 1
        out.append((a, b, tag))
    return out


def katakana_name_before_title(tokens: Tokens, spans: list[Span], pos: PosName) -> list[Span]:
    """A katakana word right before a title only people have (メローニ首相, ブリンケン長官) is a
    person's name when the model left it untagged (foreign names are often unknown to it).
    Words that Sudachi lists as place names (ロシア大統領) are left alone."""
    if not tokens.words & _HAS_PERSON_TITLE:
        return spans
    surface = tokens.surface
    found = PERSON_TITLES.intersection(surface)
    if not found:
        return spans
    taken = {i for a, b, _ in spans for i in range(a, b)}
    add: list[Span] = []
    for title in found:
        for i in _indices(surface, title):
            k = i - 1
            if k < 0 or k in taken or shape(surface[k]) != "T" or len(surface[k]) < 2:
                continue
            if pos(tokens.pos[k])[2] == "地名":
                continue
            add.append((k, i, "PER"))
    return sorted(spans + add) if add else spans


def person_before_title(tokens: Tokens, spans: list[Span], pos: PosName) -> list[Span]:
    """A person's name with a title, taken as an organisation (玉木代表, 泉代表): the model
    reads 代表 as the head of a body. When every word before the trailing titles is a Sudachi
    person name, it is a person (strip_titles then cuts the title off)."""
    surface, tpos = tokens.surface, tokens.pos
    if not tokens.words & _HAS_TITLE or TITLES.isdisjoint(surface):
        return spans
    out: list[Span] = []
    for a, b, tag in spans:
        if tag != "PER" and b - a >= 2 and surface[b - 1] in TITLES:
            k = b - 1
            while k > a and surface[k - 1] in TITLES:
                k -= 1
            if k > a and all(pos(tpos[i])[2] == "人名" for i in range(a, k)):
                tag = "PER"
        out.append((a, b, tag))
    return out


def person_with_post(tokens: Tokens, spans: list[Span], pos: PosName) -> list[Span]:
    """A full person name run into their post, taken as one organisation: 高市早苗経済安全保障
    担当相, 河野太郎デジタル相. When a span opens with a Sudachi surname and given name and ends
    in a title or a minister's 相, the person is the name only."""
    if not tokens.words & (_HAS_TITLE | _HAS_SO):
        return spans  # no span can end in a title or 相
    out: list[Span] = []
    surface, tpos = tokens.surface, tokens.pos
    for a, b, tag in spans:
        if tag != "PER" and b - a >= 3:
            first, second = pos(tpos[a]), pos(tpos[a + 1])
            last = surface[b - 1]
            if (
                first[2:4] == ("人名", "姓")
                and second[2:4] == ("人名", "名")
                and (last in TITLES or last.endswith("相"))
                and pos(tpos[a + 2])[2] != "人名"
            ):
                out.append((a, a + 2, "PER"))
                continue
        out.append((a, b, tag))
    return out


def common_words_are_not_names(tokens: Tokens, spans: list[Span], pos: PosName) -> list[Span]:
    """An organisation made only of everyday words is no name (温室効果ガス): every word a
    Sudachi common noun and none of them a word that heads a name (党, 機構, 基金, 銀行 ...,
    lexicon.NAME_HEADS), one of them in kanji and none with latin letters or digits (MBSテレビ,
    パンダネット are brands). One-word spans are left alone (楽天 is also a common noun)."""
    out: list[Span] = []
    surface, tpos = tokens.surface, tokens.pos
    for span in spans:
        a, b, tag = span
        if (
            tag == "ORG"
            and b - a >= 2
            and pos(tpos[a])[1] == "普通名詞"  # the first word alone: most spans stop here
            and all(pos(tpos[i])[:2] == ("名詞", "普通名詞") for i in range(a, b))
            and not any(surface[i] in NAME_HEADS for i in range(a, b))
            and any(shape(surface[i]) == "K" for i in range(a, b))
            and all(shape(surface[i]) in _EVERYDAY_SHAPES for i in range(a, b))
        ):
            continue
        out.append(span)
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
    if not tokens.words & _HAS_DOT or ("・" not in surface and "･" not in surface):
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
    if not tokens.words & _HAS_DIRECTION:
        return spans
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
    if not surface or tokens.starts()[-1] + len(surface[-1]) <= MAX_NAME_CHARS:
        return spans  # the whole text is within the bound (most texts): no span is over it
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
    katakana_name_before_title,
    join_katakana_dots,
    split_person_prefix,
    place_not_person,
    direction_places,
    person_with_post,
    person_before_title,
    common_words_are_not_names,
    strip_titles,
    drop_punctuation_edges,
    drop_overlong,
)

#: The word classes a rule needs (workers.extract.words): a text with none of them is left as
#: it is by the rule (each tests it first), so the pipeline skips the call for it.
RULE_NEEDS: dict[SpanRule, int] = {
    split_open_bracket: _HAS_OPENER,
    katakana_name_before_title: _HAS_PERSON_TITLE,
    join_katakana_dots: _HAS_DOT,
    direction_places: _HAS_DIRECTION,
    person_with_post: _HAS_TITLE | _HAS_SO,
    person_before_title: _HAS_TITLE,
    strip_titles: _HAS_TITLE,
}


# --- rules over entity rows (character offsets), after the rows are built ---------------------

#: (text, type, start, end, normalized), as entities.EntityRow
Row = tuple[str, str, int, int, str]
#: Titles of two characters or more, longest first (a person row ending in one loses it).
_TITLE_ENDS = tuple(sorted((t for t in TITLES if len(t) >= 2), key=len, reverse=True))
#: Their last characters: a row that ends in none of them needs no endswith over all of them.
_TITLE_LAST = frozenset(t[-1] for t in _TITLE_ENDS)
#: A word that ends in one (workers.extract.words): a row ends a word, so in a text without
#: one no row ends in a title.
HAS_TITLE_END = WORDS.bit("last", "".join(sorted(_TITLE_LAST)))


def titles_inside_words(rows: list[Row]) -> list[Row]:
    """A person's name ends before a title even when Sudachi made name and title one word
    (トランプ大統領 is one dictionary entry, so strip_titles, which cuts whole words, cannot)."""
    out = rows
    for i, (text, kind, start, end, normalized) in enumerate(rows):
        if kind == "PERSON" and text[-1:] in _TITLE_LAST and text.endswith(_TITLE_ENDS):
            title = next(t for t in _TITLE_ENDS if text.endswith(t))
            if len(text) - len(title) >= 2 and not text[: -len(title)].endswith("・"):
                if out is rows:
                    out = list(rows)
                name = normalized[: -len(title)] if normalized.endswith(title) else normalized
                out[i] = (text[: -len(title)], kind, start, end - len(title), name)
    return out
