"""Country abbreviations: 日米韓 -> 日, 米, 韓 (three mentions, each with its own offsets).

Japanese news writes a country as one kanji of its ateji (米 for アメリカ, 豪 for オーストラリア)
in compounds (日米韓, 米中, 露朝), after a prefix (訪中, 来日, 対米) and alone before a word of
state (豪政府, 英首相, 米大統領, ブリンケン米国務長官). The same kanji have other senses: 米 is
rice (米価, 米の価格), 豪 heavy (豪雨), 印 a mark (印刷), 加 adding (加工), 中 "during" (会見中).

What decides, in order, all general:
- a word made of abbreviation kanji (and at most one prefix before a single one) is read as
  countries outright when Sudachi's dictionary lists it only with the reading of those
  countries (日米 = ニチ + ベイ, 訪中 = ホウ + チュウ); a word the dictionary also knows as a
  place or organisation name (中米 Central America, 台中 the city, 中日 the newspaper, 朝日)
  never is, nor a prefix word with another sense (全日, "all day");
- a compound with another sense or reading too (日中 is also "daytime", 日比 a surname, 米印
  the mark ※, 西日 the afternoon sun) needs a word of relation after it (日中関係, 日比の防衛
  協力) or another country word beside it (日中|韓);
- a lone abbreviation kanji needs a word of state right after it (lexicon.STATE_WORDS) and
  must not end a longer word or follow a number (3日, 会見中);
- one word that is an abbreviation plus a word of state (米大統領) gives the country only.

Tables: the abbreviations and their readings are data (``workers/identity/data``); the
prefixes, state and relation words are closed-class words in ``lexicon.py``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from itertools import product
from typing import Any, NamedTuple

from workers.extract.lexicon import (
    COUNTRY_PREFIXES,
    EVENT_WORDS,
    RELATION_WORDS,
    STATE_WORDS,
    TITLES,
)
from workers.extract.tokens import Tokens
from workers.extract.words import WORDS
from workers.identity.known import KnownNames

PosName = Callable[[int], tuple[str, ...]]
#: (text, type, start, end, normalized), as entities.EntityRow
Row = tuple[str, str, int, int, str]
LOCATION = "LOCATION"
_NUMERALS = set("0123456789０１２３４５６７８９〇一二三四五六七八九十百千万数何")
_NAME_POS = ("地名", "一般")  # a dictionary entry as a proper noun of these kinds is a name itself


class Compound(NamedTuple):
    """A word read as countries: the offsets of its country kanji, and whether the word also
    has another sense (then it needs context)."""

    members: tuple[int, ...]
    ambiguous: bool


class CountryCompounds:
    """Finds country abbreviations in a text's tokens; see the module docstring."""

    def __init__(self, known: KnownNames, lookup: Callable[[str], Iterable[Any]] | None) -> None:
        self.abbreviations = known.abbreviations
        self.readings = {c: a.readings for c, a in self.abbreviations.items()}
        self._lookup = lookup
        chars = "".join(sorted(self.abbreviations))
        prefixes = "".join(sorted(COUNTRY_PREFIXES))
        state = "".join(sorted({w[0] for w in STATE_WORDS}))
        # A text can hold a country abbreviation only where an abbreviation or prefix stands
        # before an abbreviation or the first character of a word of state: a cheap first test
        # (two character sets, searched fast), the words decide.
        self.trigger = re.compile(f"[{chars}{prefixes}][{chars}{state}]")
        self.starters = frozenset(chars + prefixes)
        # The words a country mention can start in (workers.extract.words): a lone
        # abbreviation kanji (米), a word of several (日米), a prefix and one (訪中), one and a
        # word of state (米大統領). A text without one has no country word (find) and no row
        # made only of such kanji (a row is whole words, each then one of the first three).
        self.has_lone = WORDS.bit("in", set(chars))
        self.has_compound = (
            WORDS.bit("multi", chars)
            | WORDS.bit("split", (prefixes, chars))
            | WORDS.bit("split", (chars, STATE_WORDS))
        )
        self.has_starter = self.has_lone | self.has_compound
        # Lone abbreviations are countries only before a word of state (or its first part:
        # 米 + 国務 + 長官) or, two of them, with a word of relation (_fits): a text with lone
        # ones but neither has none for find, and only its rows made of them can go (drop_bare).
        state_parts = {w[:k] for w in STATE_WORDS for k in range(1, len(w) + 1)}
        self.lone_needs = WORDS.bit("in", state_parts) | WORDS.bit("in", RELATION_WORDS)
        self.analyse = functools.lru_cache(maxsize=8192)(self._analyse)

    # --- one word ----------------------------------------------------------------------------

    def _allowed(self, surface: str) -> set[str] | None:
        """Readings the word has when it is countries (prefix + countries), or None when its
        characters cannot form such a word."""
        parts: list[tuple[str, ...]] = []
        for i, ch in enumerate(surface):
            got = self.readings.get(ch)
            if got is None and i == 0 and len(surface) == 2:
                got = COUNTRY_PREFIXES.get(ch)
            if got is None:
                return None
            parts.append(got)
        return {"".join(p) for p in product(*parts)}

    def _analyse(self, surface: str) -> Compound | None:
        """The country reading of a word of two or more kanji, or None."""
        if len(surface) < 2:
            return None
        allowed = self._allowed(surface)
        if allowed is None:
            return None
        members = tuple(i for i, ch in enumerate(surface) if ch in self.readings)
        if self._lookup is None:  # no dictionary lookup: trust the characters alone
            return Compound(members, ambiguous=True)
        entries = list(self._lookup(surface))
        country = other = False
        for m in entries:
            pos = m.part_of_speech()
            if pos[1] == "固有名詞" and pos[2] in _NAME_POS:
                return None  # a place or organisation name in its own right (中米, 台中, 中日)
            if m.reading_form() in allowed and pos[1] == "普通名詞" and pos[2] != "副詞可能":
                country = True
            else:
                other = True
        if other and members[0] != 0:  # a prefix word with another sense (全日): never
            return None
        # Listed only with other readings (米印 is also ※, コメジルシ): a compound only where a
        # word of relation shows it (米印の貿易協議), like one with both senses.
        return Compound(members, ambiguous=other or not country)

    # --- a text ------------------------------------------------------------------------------

    def apply(self, text: str, tokens: Tokens, pos: PosName, rows: list[Row]) -> list[Row]:
        """The rows with the text's country abbreviations put in (``merge``), and without the
        model's rows that are only abbreviation kanji that ``find`` did not confirm (米 as rice
        in 米の価格, 日中 as "daytime")."""
        if not tokens.words & self.has_starter:
            return rows
        found, covered = self.find(text, tokens, pos)
        if found:
            return merge(text, self.drop_bare(rows), found, covered)
        return self.drop_bare(rows)

    def needs_find(self, words: int) -> bool:
        """Whether a text with these word classes can hold a country word (else ``apply`` is
        ``drop_bare``): a compound, or lone abbreviations with what can make them one."""
        return bool(
            words & self.has_compound or (words & self.has_lone and words & self.lone_needs)
        )

    def drop_bare(self, rows: list[Row]) -> list[Row]:
        """The rows without those only made of abbreviation kanji (what ``apply`` gives for a
        text in which ``find`` finds no country: 米 as rice, 日中 as "daytime")."""
        bare, starters = self._bare, self.starters
        kept = [r for r in rows if r[0][:1] not in starters or not bare(r[0])]
        return rows if len(kept) == len(rows) else kept

    def _bare(self, name: str) -> bool:
        """Whether a name is only abbreviation kanji (after at most one prefix): 米, 日中, 訪米."""
        if len(name) > 4 or not name:
            return False
        readings = self.readings
        first = name[0] in readings or (len(name) == 2 and name[0] in COUNTRY_PREFIXES)
        return first and all(ch in readings for ch in name[1:])

    def find(
        self, text: str, tokens: Tokens, pos: PosName
    ) -> tuple[list[Row], list[tuple[int, int]]]:
        """(country mentions, character ranges of the words they were found in) of a text."""
        if self.trigger.search(text) is None:
            return [], []
        surface = tokens.surface
        starts = tokens.starts()
        n = len(surface)
        found: list[Row] = []
        covered: list[tuple[int, int]] = []
        done = -1
        first = bisect_right(starts, self.trigger.search(text).start()) - 1  # type: ignore[union-attr]
        starters = self.starters
        for i in range(max(first, 0), n):
            if i <= done or surface[i][:1] not in starters:  # Sudachi can give an empty word (…)
                continue
            run = self._run(surface, pos, tokens.pos, i, n)
            if run is None:
                continue
            a, b, members = run
            done = b - 1
            for k in members:
                k += starts[a]
                found.append((text[k], LOCATION, k, k + 1, text[k]))
            end = starts[b - 1] + len(surface[b - 1])
            covered.append((starts[a], end))
        return found, covered

    def _kind(self, s: str) -> Compound | None:
        if len(s) == 1:
            return Compound((0,), ambiguous=True) if s in self.readings else None
        return self.analyse(s)

    def _run(
        self, surface: list[str], pos: PosName, pos_ids: list[int], i: int, n: int
    ) -> tuple[int, int, list[int]] | None:
        """The tokens i..b-1 of a country mention run starting at token i, with the character
        offsets of the countries, or None."""
        starts_of: list[int] = []
        kinds: list[Compound] = []
        b = i
        while b < n:
            kind = self._kind(surface[b])
            if kind is None:
                break
            kinds.append(kind)
            b += 1
        if not kinds:
            return self._state_word(surface, pos, pos_ids, i, n)
        if not self._fits(surface, pos, pos_ids, i, b, kinds, n):
            return None
        offset = 0
        for k in range(i, b):
            starts_of.append(offset)
            offset += len(surface[k])
        members = [starts_of[k - i] + m for k in range(i, b) for m in kinds[k - i].members]
        return i, b, members

    def _fits(
        self,
        surface: list[str],
        pos: PosName,
        pos_ids: list[int],
        i: int,
        b: int,
        kinds: list[Compound],
        n: int,
    ) -> bool:
        """Whether the words i..b-1 (each a compound or a lone abbreviation) are countries."""
        if i > 0 and _after_number_or_word(surface[i - 1], pos(pos_ids[i - 1]), surface[i]):
            return False
        nxt = surface[b] if b < n else ""
        after = surface[b + 1] if b + 1 < n else ""
        if nxt in EVENT_WORDS:
            return False  # 日露戦争: the name of an event
        compounds = [k for k, s in zip(kinds, surface[i:b], strict=True) if len(s) > 1]
        if len(kinds) >= 2 and compounds:
            return True  # 日米|韓, 日|米豪|印
        if len(compounds) == 1:
            if not compounds[0].ambiguous:
                return True
            return _relation_follows(nxt, after)
        # lone abbreviation kanji only: 豪政府, 英首相, 米国務長官 (or two of them: 日|加関係)
        if nxt in STATE_WORDS or nxt + after in STATE_WORDS:
            return len(kinds) == 1
        return len(kinds) >= 2 and _relation_follows(nxt, after)

    def _state_word(
        self, surface: list[str], pos: PosName, pos_ids: list[int], i: int, n: int
    ) -> tuple[int, int, list[int]] | None:
        """One word that is an abbreviation plus a word of state: 米大統領 -> 米."""
        s = surface[i]
        if len(s) < 2 or s[0] not in self.readings or s[1:] not in STATE_WORDS:
            return None
        p = pos(pos_ids[i])
        if p[0] != "名詞" or p[1] != "普通名詞":  # 米軍, 英軍: names of their own
            return None
        if i > 0 and _after_number_or_word(surface[i - 1], pos(pos_ids[i - 1]), s):
            return None
        return i, i + 1, [0]


def _relation_follows(nxt: str, after: str) -> bool:
    return nxt in RELATION_WORDS or (nxt == "の" and (after in RELATION_WORDS))


def _after_number_or_word(prev: str, prev_pos: tuple[str, ...], s: str) -> bool:
    """Whether a country word cannot start here: after a number (3日) or as the end of a
    kanji word (会見中, 期間中: the abbreviation is a suffix there)."""
    if prev and prev[-1] in _NUMERALS:
        return True
    if (
        len(s) == 1
        and prev_pos[1] == "普通名詞"
        and prev_pos[2] != "助数詞可能"
        and _kanji(prev[-1])
    ):
        return True
    return prev_pos[1] == "数詞"


def _kanji(ch: str) -> bool:
    return "CJK UNIFIED" in unicodedata.name(ch, "")


# --- merging with the model's rows ---------------------------------------------------------


def merge(
    text: str, rows: list[Row], found: list[Row], covered: list[tuple[int, int]]
) -> list[Row]:
    """The model's rows with the country mentions put in: a row that overlaps the words the
    countries were found in keeps only its part before them (ブリンケン米 -> ブリンケン, typed
    PERSON when a title follows the country: ブリンケン米国務長官); rows inside them go."""
    if not found:
        return rows
    out: list[Row] = list(found)
    cuts = sorted(covered)
    firsts = [c[0] for c in cuts]
    for row in rows:
        _, kind, start, end, _ = row
        k = bisect_left(firsts, end)  # covered ranges starting before the row ends
        hit = next((c for c in cuts[:k] if c[1] > start), None)
        if hit is None:
            out.append(row)
            continue
        if hit[0] > start:
            part = text[start : hit[0]]
            rest = text[hit[0] + 1 : hit[0] + 6]
            if kind != "PERSON" and any(rest.startswith(t) for t in _TITLE_STARTS):
                kind = "PERSON"
            out.append((part, kind, start, hit[0], unicodedata.normalize("NFKC", part)))
    out.sort(key=lambda r: (r[2], r[3]))
    return out


#: Titles that, after a name and a country abbreviation, show the name is a person's
#: (ブリンケン米国務長官, メルツ独首相).
_TITLE_STARTS = tuple(sorted({t for t in TITLES if len(t) >= 2} | {"国務長官"}, key=len))
