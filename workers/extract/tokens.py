"""Tokens: one Sudachi pass per text, cut under Sudachi's byte limit, offsets into the whole text.

Everything downstream (features, model, rules) works on the plain tuples made here, so Sudachi
is called exactly once per chunk and its Morpheme objects never leave this module.
"""

from __future__ import annotations

from typing import NamedTuple

from sudachipy import Dictionary, SplitMode

SUDACHI_MAX_BYTES = 49_149  # Sudachi refuses longer inputs
_BREAKS = "。！？!?．.\n 　、，,"  # preferred cut points inside an over-long line


class Token(NamedTuple):
    surface: str
    pos: int  # Sudachi part-of-speech id; see Tokenizer.pos_name
    start: int  # code-point offset into the whole text
    end: int
    norm: str  # Sudachi's normalized form (ヴェネツィア -> ベネチア, ＮＡＴＯ -> NATO)


def _cut_long(line: str, limit: int) -> list[str]:
    """Cut one line that is too long for Sudachi, preferring sentence or clause ends."""
    out: list[str] = []
    while len(line.encode("utf-8")) > limit:
        cut = limit // 4  # 4 bytes is the widest UTF-8 code point, so this always fits
        best = max(line.rfind(ch, cut // 2, cut) for ch in _BREAKS)
        cut = best + 1 if best > 0 else cut
        out.append(line[:cut])
        line = line[cut:]
    out.append(line)
    return out


def split_for_sudachi(text: str, limit: int = SUDACHI_MAX_BYTES) -> list[tuple[int, str]]:
    """Cut text into (offset, chunk) pieces, one per line, each at most `limit` UTF-8 bytes.

    One line at a time: Sudachi's choice for a word can depend on what precedes it across a
    line break (ソウル after a newline came out as a common noun), and short inputs are also
    faster per character. A line longer than the limit is cut at a sentence or clause end when
    there is one. Chunks that are only whitespace are dropped.
    """
    if "\n" not in text and "\r" not in text and len(text) * 4 <= limit:
        return [(0, text)] if text.strip() else []  # fast path: one short line
    out: list[tuple[int, str]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        for piece in _cut_long(line, limit):
            if piece.strip():
                out.append((pos, piece))
            pos += len(piece)
    return out


class Tokenizer:
    """Sudachi, split mode C, loading only the dictionary fields we read (faster calls)."""

    def __init__(self) -> None:
        self._dict = Dictionary()
        self._tok = self._dict.tokenizer(SplitMode.C, fields={"pos", "normalized_form"})
        self._pos_names: dict[int, tuple[str, ...]] = {}

    def pos_name(self, pos_id: int) -> tuple[str, ...]:
        """The six-field Sudachi POS of an id (ids differ between dictionary builds)."""
        name = self._pos_names.get(pos_id)
        if name is None:
            name = self._pos_names[pos_id] = tuple(self._dict.pos_of(pos_id) or ("*",) * 6)
        return name

    def __call__(self, text: str) -> list[Token]:
        tokens: list[Token] = []
        append = tokens.append
        for offset, chunk in split_for_sudachi(text):
            for m in self._tok.tokenize(chunk):
                b = m.begin()
                e = m.end()
                append(Token(chunk[b:e], m.part_of_speech_id(), offset + b, offset + e,
                             m.normalized_form()))
        return tokens
