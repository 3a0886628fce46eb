"""Tokens: one Sudachi pass per text, cut under Sudachi's byte limit, offsets into the whole text.

Sudachi is called exactly once per chunk. The run-time path (`Tokenizer.typed`) keeps a text's
tokens as parallel lists (`Tokens`) with an integer type id per token (filled by
decoder.TypeTagger, in C), keeps Sudachi's MorphemeLists for the normalized forms of the few
tokens that end up in a name, and sums offsets only when asked; training uses the plain `Token`
tuples of `Tokenizer.__call__`.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from itertools import accumulate
from typing import Any, NamedTuple

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
    if len(line) * 4 <= limit:  # fits whatever its characters (skips encoding the line)
        return [line]
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


# fill(morphemes, surface, pos, type ids): appends one entry per morpheme to each list
Fill = Callable[[Iterable[Any], list[str], list[int], list[int]], None]
# scan([(offset, chunk, morphemes)]) -> (surface, pos, start offsets, name spans, word-class
# bits: workers.extract.words) of a text
Span = tuple[int, int, str]
Scan = Callable[
    [list[tuple[int, str, Any]]], tuple[list[str], list[int], list[int], list[Span], int]
]


class Tokens:
    """A text's tokens as parallel lists (surface, POS id, type id), offsets on demand.

    One Python object per token cost more than tagging them, so nothing per token is built
    beyond three list entries; start offsets are summed from surface lengths (Sudachi's
    surfaces tile each chunk exactly) and normalized forms are read from Sudachi when asked.
    """

    __slots__ = ("_starts", "chunks", "pos", "surface", "type_id", "words")

    def __init__(
        self,
        surface: list[str],
        pos: list[int],
        type_id: list[int] | None = None,
        chunks: list[tuple[int, int, Any]] | None = None,
        starts: list[int] | None = None,
        words: int | None = None,
    ) -> None:
        self.surface = surface
        self.pos = pos
        self.type_id = type_id if type_id is not None else []
        #: (index of the first token, offset in the text, Sudachi MorphemeList or None) per
        #: chunk: what ``norms`` reads (and _viterbi.rows, its C twin)
        self.chunks = chunks if chunks is not None else [(0, 0, None)]
        self._starts: list[int] | None = starts
        #: the bits of the word classes the text's words are in (workers.extract.words), from
        #: the tagger's scan; -1 (every bit) for tokens made otherwise: then no step is skipped
        #: and each runs its whole test, as it would without word classes
        self.words = words if words is not None else -1

    def __len__(self) -> int:
        return len(self.surface)

    def starts(self) -> list[int]:
        """Code-point start offset of every token in the text (computed once, when needed)."""
        if self._starts is None and len(self.chunks) == 1:  # one line: the common case
            self._starts = list(accumulate(map(len, self.surface), initial=self.chunks[0][1]))
        if self._starts is None:
            starts: list[int] = []
            bounds = [first for first, _, _ in self.chunks[1:]] + [len(self.surface)]
            for (first, offset, _), last in zip(self.chunks, bounds, strict=True):
                starts += accumulate(map(len, self.surface[first:last]), initial=offset)
                starts.pop()  # the chunk's end
            self._starts = starts
        return self._starts

    def span(self, a: int, b: int) -> tuple[int, int]:
        """Character offsets (start, end) of tokens a .. b-1."""
        starts = self.starts()
        return starts[a], starts[b - 1] + len(self.surface[b - 1])

    def _chunk_of(self, i: int) -> int:
        """Index into chunks of the chunk that holds token i."""
        chunks = self.chunks
        return 0 if len(chunks) == 1 else bisect_right(chunks, i, key=lambda c: c[0]) - 1

    def norms(self, a: int, b: int) -> list[str]:
        """Sudachi's normalized forms of tokens a .. b-1.

        A name lies within one chunk (line), so the chunk is found once, not per token.
        """
        k = self._chunk_of(a)
        first, _, morphemes = self.chunks[k]
        last = self.chunks[k + 1][0] if k + 1 < len(self.chunks) else len(self.surface)
        if morphemes is None or b > last:
            return [self.norm(i) for i in range(a, b)]
        return [morphemes[i].normalized_form() for i in range(a - first, b - first)]

    def norm(self, i: int) -> str:
        """Sudachi's normalized form of token i (its surface for hand-made Tokens)."""
        first, _, morphemes = self.chunks[self._chunk_of(i)]
        if morphemes is None:
            return self.surface[i]
        form: str = morphemes[i - first].normalized_form()
        return form


class _PosNames(dict[int, tuple[str, ...]]):
    """POS id -> six-field POS, filled from the dictionary on first use."""

    def __init__(self, dictionary: Any) -> None:
        super().__init__()
        self._dict = dictionary

    def __missing__(self, pos_id: int) -> tuple[str, ...]:
        name: tuple[str, ...] = tuple(self._dict.pos_of(pos_id) or ("*",) * 6)
        self[pos_id] = name
        return name


class Tokenizer:
    """Sudachi, split mode C, loading only the dictionary fields we read (faster calls)."""

    def __init__(self) -> None:
        self._dict = Dictionary()
        self._tok = self._dict.tokenizer(SplitMode.C, fields={"pos", "normalized_form"})
        self._pos_names = _PosNames(self._dict)
        # The six-field Sudachi POS of an id (ids differ between dictionary builds). A dict's
        # own lookup: the rules call it often, and a hit runs no Python code.
        self.pos_name: Callable[[int], tuple[str, ...]] = self._pos_names.__getitem__
        # Every dictionary entry of a surface (SudachiPy >= 0.6.9), for the country compounds.
        self.lookup: Callable[[str], Any] | None = getattr(self._dict, "lookup", None)

    def typed(self, text: str, fill: Fill) -> Tokens:
        """Tokens of a text with a type id each; `fill` appends each morpheme's surface, POS id
        and type id to three lists (decoder.TypeTagger.fill: the per-token loop, in C)."""
        surface: list[str] = []
        pos: list[int] = []
        ids: list[int] = []
        chunks: list[tuple[int, int, Any]] = []
        tokenize = self._tok.tokenize
        for offset, chunk in split_for_sudachi(text):
            morphemes = tokenize(chunk)
            chunks.append((len(surface), offset, morphemes))
            fill(morphemes, surface, pos, ids)
        return Tokens(surface, pos, ids, chunks or None)

    def scanned(self, text: str, scan: Scan) -> tuple[Tokens, list[Span]]:
        """Tokens of a text and the model's name spans over them, in one pass: `scan` takes the
        text's chunks with their Sudachi morphemes (decoder.TypeTagger.scan: all per-token
        work, in C)."""
        tokenize = self._tok.tokenize
        chunks = [(offset, chunk, tokenize(chunk)) for offset, chunk in split_for_sudachi(text)]
        surface, pos, starts, spans, words = scan(chunks)
        if len(chunks) == 1:
            offset, _, morphemes = chunks[0]
            return Tokens(surface, pos, None, [(0, offset, morphemes)], starts, words), spans
        # (first token, offset, morphemes) per chunk; a chunk's first token starts at its offset
        index = [(bisect_left(starts, off), off, morphemes) for off, _, morphemes in chunks]
        return Tokens(surface, pos, None, index or None, starts, words), spans

    def __call__(self, text: str) -> list[Token]:
        tokens: list[Token] = []
        append = tokens.append
        for offset, chunk in split_for_sudachi(text):
            for m in self._tok.tokenize(chunk):
                b = m.begin()
                e = m.end()
                append(
                    Token(
                        chunk[b:e],
                        m.part_of_speech_id(),
                        offset + b,
                        offset + e,
                        m.normalized_form(),
                    )
                )
        return tokens
