"""Known names spotted in the tokens: short forms the model misses (公明, 維新, 国民民主, 日銀)
and the type a known name has (立民 is a party, not a person).

The names are the public-fact tables of ``workers/identity/data`` (organisations, and countries
by their CLDR and press names), each matched as the whole Sudachi words it is made of, so 公明
inside 公明正大 or 日本 inside 日本人 never match. How a match meets the model's rows:

- same span: the row takes the known type;
- the match inside a row that is the match plus a government word (カナダ政府, lexicon
  GOVERNMENT_WORDS): the row stays (the government is an organisation) and the country is
  added inside it, a mention of its own;
- rows inside the match: they give way to it;
- any other overlap: the model's row stays;
- no overlap: an organisation is added unless a noun is glued to it on either side (共産党宣言,
  FIFA U-20 are other names); a country never is (the model leaves アメリカ映画, ベトナム戦争
  out on purpose).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from pathlib import Path

from workers.extract.lexicon import GOVERNMENT_WORDS
from workers.extract.tokens import Tokens
from workers.extract.words import WORDS
from workers.identity.known import DATA, KnownNames

#: (text, type, start, end, normalized), as entities.EntityRow
Row = tuple[str, str, int, int, str]
# One known name as words: (surfaces, type, form)
Entry = tuple[tuple[str, ...], str, str]
LOCATION = "LOCATION"


def _glued(
    surface: list[str], tpos: list[int], pos: Callable[[int], tuple[str, ...]], a: int, b: int
) -> bool:
    """Whether the words before a or from b on are nouns that make a longer name with it."""
    for k in (a - 1, b):
        if 0 <= k < len(surface):
            p = pos(tpos[k])
            if (p[0] == "名詞" and p[1] != "数詞") or p[0] in ("接尾辞", "接頭辞"):
                return True
    return False


def split_names(tokenizer: object, forms: list[str]) -> list[list[str]]:
    """The Sudachi words of each name, in one tokenizer call (names one per line)."""
    words: list[list[str]] = [[]]
    for m in tokenizer._tok.tokenize("\n".join(forms)):  # type: ignore[attr-defined]
        s = m.surface()
        if s == "\n":
            words.append([])
        else:
            words[-1].append(s)
    return words


def dictionary_fingerprint() -> str:
    """Which Sudachi system dictionary is installed: its file size (cheap, where
    importlib.metadata would cost a noticeable part of ``newsflow extract``'s start-up)."""
    try:
        import sudachidict_core

        dic = Path(sudachidict_core.__file__).parent / "resources" / "system.dic"
        return f"system.dic {dic.stat().st_size}"
    except (ImportError, OSError):
        return "?"


def cached_words(tokenizer: object) -> Callable[[list[str]], list[list[str]]]:
    """``split_names`` that reads ``data/spot_words.tsv`` (``python -m workers.identity.build``)
    when it was made with the installed dictionary, tokenizing only names it lacks."""
    cache: dict[str, list[str]] = {}
    installed = dictionary_fingerprint()
    path = DATA / "spot_words.tsv"
    if path.exists():
        with open(path, encoding="utf-8") as f:
            head = f.readline().rstrip("\n").split("\t")
            if head == ["# sudachidict", installed]:
                for line in f:
                    form, _, split = line.rstrip("\n").partition("\t")
                    cache[form] = split.split("|")

    def words(forms: list[str]) -> list[list[str]]:
        missing = [f for f in forms if f not in cache]
        if missing:
            cache.update(zip(missing, split_names(tokenizer, missing), strict=True))
        return [cache[f] for f in forms]

    return words


class Gazetteer:
    """Known names indexed by their first word, matched against a text's words."""

    def __init__(
        self,
        known: KnownNames,
        words: Callable[[list[str]], list[list[str]]],
        pos: Callable[[int], tuple[str, ...]],
    ) -> None:
        """``words`` splits each name into Sudachi words (one call for all of them); ``pos``
        names a POS id."""
        self.pos = pos
        forms = sorted(known.spot)
        # Organisations are looked for in every text; countries only in texts with a
        # government word (their one use here: カナダ政府; identity types them anyway).
        self.index: dict[str, list[Entry]] = {}
        self.places: dict[str, list[Entry]] = {}
        for form, surfaces in zip(forms, words(forms), strict=True):
            if surfaces and "".join(surfaces) == form:
                kind = known.spot[form]
                index = self.places if kind == LOCATION else self.index
                index.setdefault(surfaces[0], []).append((tuple(surfaces), kind, form))
        for index in (self.index, self.places):
            for entries in index.values():
                entries.sort(key=lambda e: -len(e[0]))  # longest first
        self.firsts = frozenset(self.index)
        self.place_firsts = frozenset(self.places)
        # A name is found only in a text that has its first and its last word, and a country
        # only in one with a government word too (workers.extract.words): the words a text
        # must have all of, for organisations and for countries.
        lasts = {e[0][-1] for entries in self.index.values() for e in entries}
        place_lasts = {e[0][-1] for entries in self.places.values() for e in entries}
        self.org_needs = WORDS.bit("in", self.firsts) | WORDS.bit("in", lasts)
        self.has_government = WORDS.bit("in", GOVERNMENT_WORDS)
        self.place_needs = (
            self.has_government | WORDS.bit("in", self.place_firsts) | WORDS.bit("in", place_lasts)
        )

    def find(self, tokens: Tokens) -> list[tuple[int, int, str, str, int, int]]:
        """(start, end, type, form, index of the word after, index of the first word) of each
        known name in the text."""
        words = tokens.words
        orgs = words & self.org_needs == self.org_needs
        places = words & self.place_needs == self.place_needs
        if not orgs and not places:
            return []
        surface = tokens.surface
        hits = []
        if orgs:
            hits = [(w, self.index) for w in self.firsts.intersection(surface)]
        if places and not GOVERNMENT_WORDS.isdisjoint(surface):
            hits += [(w, self.places) for w in self.place_firsts.intersection(surface)]
        if not hits:
            return []
        starts = tokens.starts()
        n = len(surface)
        out = []
        for first, index in hits:
            i = -1
            while True:
                try:
                    i = surface.index(first, i + 1)
                except ValueError:
                    break
                for surfaces, kind, form in index[first]:
                    b = i + len(surfaces)
                    if b <= n and tuple(surface[i:b]) == surfaces:
                        end = starts[b - 1] + len(surface[b - 1])
                        out.append((starts[i], end, kind, form, b, i))
                        break
        out.sort()
        return out

    def merge(self, text: str, tokens: Tokens, rows: list[Row]) -> list[Row]:
        """``rows`` with the known names of the text put in (see the module docstring)."""
        matches = self.find(tokens)
        if not matches:
            return rows
        spans = {(r[2], r[3]): r[1] for r in rows}
        if all(spans.get((m[0], m[1])) == m[2] for m in matches):
            return rows  # the model found every one, typed as known: nothing to do
        surface = tokens.surface
        rows = sorted(rows, key=lambda r: (r[2], r[3]))
        firsts = [r[2] for r in rows]
        drop: set[int] = set()
        add: list[Row] = []
        retype: dict[int, str] = {}
        last_end = -1
        tpos = tokens.pos
        for start, end, kind, form, after, first in matches:
            if start < last_end:
                continue  # inside a longer match already taken
            k = bisect_left(firsts, end)
            over = [j for j in range(k) if rows[j][3] > start and j not in drop]
            taken = True
            if not over:
                if kind == LOCATION or _glued(surface, tpos, self.pos, first, after):
                    continue  # the model left it out on purpose (アメリカ映画, 共産党宣言)
                add.append((text[start:end], kind, start, end, form))
            elif len(over) == 1 and (rows[over[0]][2], rows[over[0]][3]) == (start, end):
                if rows[over[0]][1] != kind:
                    retype[over[0]] = kind
            elif all(start <= rows[j][2] and rows[j][3] <= end for j in over):
                drop.update(over)  # the model found parts of it
                add.append((text[start:end], kind, start, end, form))
            elif (
                len(over) == 1
                and rows[over[0]][2] == start
                and text[end : rows[over[0]][3]] in GOVERNMENT_WORDS
            ):
                # カナダ政府: the government stays a name, and the country is mentioned in it
                add.append((text[start:end], kind, start, end, form))
            else:
                taken = False
            if taken:
                last_end = end
        if not add and not retype:
            return rows
        out = [
            (r[0], retype.get(j, r[1]), r[2], r[3], r[4])
            for j, r in enumerate(rows)
            if j not in drop
        ]
        out += add
        out.sort(key=lambda r: (r[2], r[3]))
        return out
