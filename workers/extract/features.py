"""Token features for the sequence model: cheap, cached per token type, combined by position.

A token's features depend only on its surface and POS, so each (surface, pos) is turned into
feature strings once per process; a sentence's feature rows are then list concatenations of the
cached pieces of the token and its neighbours. Training (and the crfsuite cross-checks in the
tests) use these strings; extraction uses the same weights regrouped per type (decoder.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from workers.extract.lexicon import LEX_CLASSES
from workers.extract.tokens import Token

PosName = Callable[[int], tuple[str, ...]]

# Per token type: (own, as -1 neighbour, as +1 neighbour, as -2 neighbour, as +2 neighbour)
Pieces = tuple[list[str], list[str], list[str], list[str], list[str]]

_BOS: Pieces = ([], ["-1w=BOS"], ["+1w=EOS"], ["-2w=BOS"], ["+2w=EOS"])
_CACHE_MAX = 200_000


@functools.cache
def char_kind(ch: str) -> str:
    """One letter per script: K kanji, H hiragana, T katakana, A latin, D digit, S space, O else."""
    o = ord(ch)
    if 0x3041 <= o <= 0x309F:
        return "H"
    if 0x30A1 <= o <= 0x30FA or o in (0x30FC, 0xFF70) or 0xFF71 <= o <= 0xFF9D:
        return "T"
    if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or o in (0x3005, 0x30F6, 0x30F5):
        return "K"
    if ch.isdigit():
        return "D"
    if ch.isalpha():
        return "A"
    if ch.isspace():
        return "S"
    return "O"


def shape(surface: str) -> str:
    """Script pattern of a surface with runs collapsed: 'プーチン' -> 'T', 'G7サミット' -> 'ADT'."""
    out: list[str] = []
    for ch in surface:
        k = char_kind(ch)
        if not out or out[-1] != k:
            out.append(k)
    return "".join(out[:4])


def lex_tags(surface: str) -> list[str]:
    """Lexicon classes of a word: whole-word match, or ending in a multi-character suffix."""
    tags: list[str] = []
    for name, words in LEX_CLASSES:
        if surface in words:
            tags.append(name)
        elif len(surface) > 2 and (surface[-2:] in words or surface[-3:] in words):
            tags.append(name + "e")
    return tags


# Sudachi POS that never belong to a name (particles, verbs, 。、): such tokens get one feature
# as themselves (they are tagged O in practice) while still giving context to their neighbours;
# that halves the work of the tagger.
NEVER_IN_NAME = frozenset(
    {
        "助詞",
        "助動詞",
        "動詞",
        "形容詞",
        "副詞",
        "接続詞",
        "連体詞",
        "感動詞",
        "代名詞",
        "句点",
        "読点",
    }
)


def token_pieces(surface: str, pos: tuple[str, ...]) -> Pieces:
    """Feature strings for one token type, for each position it can take relative to a token.

    Extraction does not build these strings: weights.TEMPLATES, decoder.TypeTagger.new_type and
    make_type in _viterbi.c mirror them as weight components. Change all four together
    (tests/extract/test_decoder.py checks they agree, and the export refuses unknown templates).
    """
    p = f"{pos[0]}|{pos[1]}|{pos[2]}"
    if pos[0] in NEVER_IN_NAME or pos[1] in NEVER_IN_NAME:
        return (
            ["w=" + surface],
            ["-1w=" + surface, "-1p=" + p],
            ["+1w=" + surface, "+1p=" + p],
            ["-2p=" + p],
            ["+2w=" + surface, "+2p=" + p],
        )
    sh = shape(surface)
    lex = lex_tags(surface)
    n = len(surface)
    own = [
        "w=" + surface,
        "p=" + p,
        "p4=" + p + "|" + pos[3],
        "sh=" + sh,
        "len=" + str(n if n < 6 else 6),
        "s1=" + surface[-1],
        "f1=" + surface[0],
    ]
    if n > 2:
        own.append("s2=" + surface[-2:])
    own.extend("lex=" + t for t in lex)
    prev1 = ["-1w=" + surface, "-1p=" + p, "-1sh=" + sh, "-1s1=" + surface[-1]]
    prev1.extend("-1lex=" + t for t in lex)
    next1 = ["+1w=" + surface, "+1p=" + p, "+1sh=" + sh, "+1f1=" + surface[0]]
    next1.extend("+1lex=" + t for t in lex)
    prev2 = ["-2p=" + p, "-2sh=" + sh]
    next2 = ["+2w=" + surface, "+2p=" + p]
    next2.extend("+2lex=" + t for t in lex)
    return own, prev1, next1, prev2, next2


class Featurizer:
    """Turns a token sequence into CRF feature rows, caching the per-type pieces."""

    def __init__(self, pos_name: PosName) -> None:
        self._pos_name = pos_name
        self._cache: dict[tuple[str, int], Pieces] = {}

    def _pieces(self, tok: Token) -> Pieces:
        key = (tok.surface, tok.pos)
        got = self._cache.get(key)
        if got is None:
            if len(self._cache) > _CACHE_MAX:
                self._cache.clear()
            got = self._cache[key] = token_pieces(tok.surface, self._pos_name(tok.pos))
        return got

    def __call__(self, tokens: Sequence[Token]) -> list[list[str]]:
        pcs = [_BOS, _BOS, *map(self._pieces, tokens), _BOS, _BOS]
        # -2/+2 sentinels reuse _BOS lists; their "EOS" forms are picked by position below.
        rows: list[list[str]] = []
        last = len(pcs) - 2
        for i in range(2, last):
            nxt1 = pcs[i + 1][2] if i + 1 < last else _BOS[2]
            nxt2 = pcs[i + 2][4] if i + 2 < last else _BOS[4]
            own = pcs[i][0]
            rows.append(own if len(own) == 1 else own + pcs[i - 1][1] + nxt1 + pcs[i - 2][3] + nxt2)
        return rows
