"""Run-time CRF: the trained crfsuite weights regrouped per token *type*, decoded without crfsuite.

Why: python-crfsuite needs every token's feature strings, and building and converting them was
most of the extractor's time. A token's features depend only on its own and its neighbours'
(surface, POS), so the weights can be summed once per type: each type gets a block of 5 x L
scores (its own state score, and what it adds as the -1, +1, -2, +2 neighbour), and a sentence
is scored by adding five blocks per token, then Viterbi. The compiled `_viterbi` module does
that in C; `pydecoder.PyDecoder` is its pure-Python twin (same results, used when the module
is missing).

The regrouping (`weights.py`, run by `python -m workers.extract.train`) mirrors
`features.token_pieces` template by template; `TypeTagger.new_type` (and its C twin) mirror it
at run time. tests/extract checks blocks, labels and spans against crfsuite.
"""

from __future__ import annotations

import marshal
import sys
from collections.abc import Callable, Iterable, Sequence
from itertools import accumulate
from pathlib import Path
from typing import Any, Protocol

from workers.extract.features import NEVER_IN_NAME, lex_tags, shape
from workers.extract.lexicon import LEX_CLASSES
from workers.extract.tokens import Fill, Scan
from workers.extract.typeflags import F_BREAK, F_END_AFTER, F_NEVER
from workers.extract.words import WORDS, WordClass

TABLES_FILE = "ner.bin"
FORMAT = 1
# A long-running worker meets new types forever (numbers, names, URLs); each costs a 440-byte
# block, a dict entry and (compiled) a scan cache slot, so past this many the cache starts over
# (registering a type again is cheap).
MAX_TYPES = 100_000


class Decoder(Protocol):
    def add_type(self, flags: int, components: Sequence[int], /) -> int: ...
    def tag(self, type_ids: Sequence[int], /) -> bytes: ...
    def n_types(self) -> int: ...
    def forget(self) -> None: ...
    def block(self, type_id: int, /) -> list[float]: ...
    def set_bio(self, kinds: bytes, tags: tuple[str | None, ...], /) -> None: ...
    def tag_spans(self, type_ids: Sequence[int], /) -> list[tuple[int, int, str]]: ...


def tables_path() -> Path:
    """Where the shipped tables live (inside the package, next to ner.crf)."""
    return Path(__file__).with_name("data") / TABLES_FILE


#: Said once per process when the C decoder is missing (the figure: docs/entity-extraction.md,
#: "Without a C compiler"; pip builds the extension only where a C compiler is found).
NOT_COMPILED_WARNING = (
    "newsflow: the compiled entity decoder (workers/extract/_viterbi.c) was not built, so "
    "entity extraction runs its pure-Python twin, about {slowdown} slower; install a C "
    "compiler (Debian: apt-get install gcc) and reinstall newsflow for full speed"
)
PY_DECODER_SLOWDOWN = "4x"
_warned = False


def _warn_not_compiled() -> None:
    global _warned
    if not _warned:
        _warned = True
        import logging  # here: the logging package costs ~3 ms of every start-up otherwise

        logging.getLogger("newsflow.extract").warning(
            NOT_COMPILED_WARNING.format(slowdown=PY_DECODER_SLOWDOWN)
        )


def compiled_decoder_class() -> Callable[..., Decoder] | None:
    """The C decoder if it was built (pip install -e . builds it), else None."""
    try:
        from workers.extract._viterbi import Decoder as CDecoder
    except ImportError:
        return None
    return CDecoder


# --- the tagger: token types -> type ids -> labels ------------------------------------------

PosName = Callable[[int], tuple[str, ...]]


class TypeTagger:
    """Maps (surface, POS id) to a type id once, then tags whole texts of type ids.

    `fill` (in C: _viterbi.Decoder.typed) gives every morpheme its type id; the first sight of
    a type sums a handful of components found by dict lookups (`new_type`, in C make_type: the
    same information `features.token_pieces` turns into strings).
    """

    def __init__(
        self, pos_name: PosName, path: Path | None = None, compiled: bool | None = None
    ) -> None:
        t: dict[str, Any] = marshal.loads((path or tables_path()).read_bytes())
        if t.get("format") != FORMAT or t.get("byteorder") != sys.byteorder:
            raise ValueError("NER tables are stale: rebuild with python -m workers.extract.train")
        self.labels: list[str] = t["labels"]
        self.o_label = self.labels.index("O")
        cls = compiled_decoder_class() if compiled is not False else None
        self.compiled = cls is not None
        if cls is None:
            if compiled:
                raise ImportError("workers.extract._viterbi is not built (pip install -e .)")
            if compiled is None:  # asked for the fast path and it is not there
                _warn_not_compiled()
            from workers.extract.pydecoder import PyDecoder

            cls = PyDecoder
        self.decoder: Decoder = cls(
            len(self.labels), self.o_label, t["trans"], t["comp_off"], t["ent_slot"], t["ent_w"]
        )
        maps: dict[str, dict[Any, int]] = t["maps"]
        empty: dict[Any, int] = {}
        self._w, self._pown, self._p4, self._pctx = (
            maps.get(k, empty) for k in ("W", "POWN", "P4", "PCTX")
        )
        self._sh, self._len, self._s1, self._f1, self._s2, self._lex = (
            maps.get(k, empty) for k in ("SH", "LEN", "S1", "F1", "S2", "LEX")
        )
        self._pos_name = pos_name
        self._pos: dict[int, tuple[bool, tuple[int, ...], int]] = {}
        # one dict per POS id: surface -> type id
        self.types: dict[int, dict[str, int]] = {}
        if self.decoder.add_type(0, [t["sentinel"]]) != 0:
            raise RuntimeError("the sentinel must be type 0")
        self.decoder.set_bio(
            bytes(0 if x == "O" else 1 if x[0] == "B" else 2 for x in self.labels),
            tuple(None if x == "O" else x[2:] for x in self.labels),
        )
        #: the word classes scan reports (workers.extract.words; set_word_classes)
        self.word_classes: tuple[WordClass, ...] = ()
        self.type_id: Callable[[str, int], int] = self._type_id
        self.fill: Fill = self._fill
        self.scan: Scan = self._scan
        if self.compiled:  # the C twins of new_type and _fill, over the same tables
            self.decoder.configure(  # type: ignore[attr-defined]
                self.types,
                self._pos_info,
                self._pos,
                (self._w, self._sh, self._len, self._s1, self._f1, self._s2, self._lex),
                LEX_CLASSES,
            )
            self.type_id = self.decoder.type_id  # type: ignore[attr-defined]
            self.fill = self.decoder.typed  # type: ignore[attr-defined]
            self.scan = self.decoder.scan  # type: ignore[attr-defined]

    def set_word_classes(self, classes: tuple[WordClass, ...]) -> None:
        """The word classes whose bits ``scan`` gives for each text (workers.extract.words)."""
        self.word_classes = classes
        if self.compiled:
            self.decoder.set_words(classes)  # type: ignore[attr-defined]

    def bound(self, max_types: int = MAX_TYPES) -> None:
        """Start the type cache over when it has grown past max_types (call between texts)."""
        if self.decoder.n_types() > max_types:
            self.types.clear()
            self.decoder.forget()

    def _type_id(self, surface: str, pos_id: int) -> int:
        """The type id of (surface, POS id), registered on first sight (pure-Python path)."""
        by_surface = self.types.get(pos_id)
        t = by_surface.get(surface) if by_surface is not None else None
        return self.new_type(surface, pos_id) if t is None else t

    def _fill(
        self, morphemes: Iterable[Any], surface: list[str], pos: list[int], ids: list[int]
    ) -> None:
        """Append each morpheme's surface, POS id and type id (pure-Python path)."""
        types = self.types
        for m in morphemes:
            s = m.surface()
            p = m.part_of_speech_id()
            surface.append(s)
            pos.append(p)
            by_surface = types.get(p)
            t = by_surface.get(s) if by_surface is not None else None
            ids.append(self.new_type(s, p) if t is None else t)

    def _scan(
        self, chunks: list[tuple[int, str, Any]]
    ) -> tuple[list[str], list[int], list[int], list[tuple[int, int, str]], int]:
        """A text's surfaces, POS ids, start offsets, name spans and word-class bits
        (pure-Python path)."""
        surface: list[str] = []
        pos: list[int] = []
        ids: list[int] = []
        starts: list[int] = []
        for offset, _, morphemes in chunks:
            first = len(surface)
            self.fill(morphemes, surface, pos, ids)
            starts += accumulate(map(len, surface[first:]), initial=offset)
            starts.pop()  # the chunk's end
        words = WORDS.of(surface, self.word_classes)
        return surface, pos, starts, self.decoder.tag_spans(ids), words

    def _pos_info(self, pos_id: int) -> tuple[bool, tuple[int, ...], int]:
        """(never in a name, own POS components, context POS component) of a POS id."""
        got = self._pos.get(pos_id)
        if got is None:
            pos = self._pos_name(pos_id)
            p = f"{pos[0]}|{pos[1]}|{pos[2]}"
            never = pos[0] in NEVER_IN_NAME or pos[1] in NEVER_IN_NAME
            own = () if never else (self._pown.get(p, 0), self._p4.get(p + "|" + pos[3], 0))
            got = self._pos[pos_id] = (never, own, self._pctx.get(p, 0))
        return got

    def new_type(self, surface: str, pos_id: int) -> int:
        """Register a type first seen (mirror of features.token_pieces)."""
        never, pos_own, pos_ctx = self._pos_info(pos_id)
        comps = [self._w.get(surface, 0), pos_ctx]
        flags = F_NEVER if never else 0
        if surface == "。":
            flags |= F_END_AFTER
        elif "\n" in surface:
            flags |= F_BREAK
        if not never:
            n = len(surface)
            comps += pos_own
            comps += (
                self._sh.get(shape(surface), 0),
                self._len.get(str(n if n < 6 else 6), 0),
                self._s1.get(surface[-1], 0),
                self._f1.get(surface[0], 0),
            )
            if n > 2:
                comps.append(self._s2.get(surface[-2:], 0))
            for tag in lex_tags(surface):
                comps.append(self._lex.get(tag, 0))
        tid = self.decoder.add_type(flags, comps)
        by_pos = self.types.get(pos_id)
        if by_pos is None:
            by_pos = self.types[pos_id] = {}
        by_pos[surface] = tid
        return tid

    def label_names(self, labels: bytes) -> list[str]:
        """Label strings of a tag() result (for tests and debugging)."""
        names = self.labels
        return [names[y] for y in labels]
