"""Word classes: which kinds of words a text has, found for all of them in one pass.

Why: most span rules and refine steps begin with a test of the text's words (has it a title?
a compass word? the first word of a known name? a word that starts with a country abbreviation?)
and most texts have none, so the test is nearly all they cost; yet each test scanned the token
list (~150 instructions a token in CPython, eight scans a line). Now each class has a bit, the
tagger's scan ORs the bits of a text's words as it types them (in C; a word's bits are
computed on its first sight and cached), and a step's first test is ``tokens.words & BIT``.

A class is ("in", frozenset of words), ("first", characters a word may start with), ("last",
characters a word may end with), ("only", the characters a word may be made of), ("multi", the
same for words of two characters or more) or ("split", (characters a word may start with, the
frozenset its rest is in)). Steps register theirs with
``WORDS.bit`` (at import, or when built from data, before the extractor configures its tagger:
entities.EntityExtractor).
"""

from __future__ import annotations

from collections.abc import Iterable

WordClass = tuple[str, frozenset[str] | str | tuple[str, frozenset[str]]]

#: at most this many classes (a 64-bit mask in C)
MAX_CLASSES = 64


class WordClasses:
    """The registered word classes, in bit order."""

    def __init__(self) -> None:
        self.classes: list[WordClass] = []

    def bit(self, kind: str, value: Iterable[str] | str | tuple[str, Iterable[str]]) -> int:
        """The bit of a class, registered on first use (the same class gives the same bit)."""
        cls: WordClass
        if kind == "in":
            cls = (kind, frozenset(value))  # type: ignore[arg-type]
        elif kind in ("first", "last", "only", "multi") and isinstance(value, str):
            cls = (kind, value)
        elif kind == "split" and isinstance(value, tuple) and isinstance(value[0], str):
            cls = (kind, (value[0], frozenset(value[1])))
        else:
            raise ValueError(f"not a word class: {kind!r} (see the module docstring)")
        if cls in self.classes:
            return 1 << self.classes.index(cls)
        if len(self.classes) == MAX_CLASSES:
            raise ValueError(f"at most {MAX_CLASSES} word classes")
        self.classes.append(cls)
        return 1 << (len(self.classes) - 1)

    def of(self, words: Iterable[str], classes: Iterable[WordClass] | None = None) -> int:
        """The bits of the classes some of ``words`` are in (over ``classes``, by default all
        registered ones): the pure-Python twin of the tagger's scan."""
        distinct = set(words)
        bits = 0
        for i, (kind, value) in enumerate(self.classes if classes is None else classes):
            if isinstance(value, frozenset):  # "in"
                hit = not distinct.isdisjoint(value)
            elif isinstance(value, tuple):  # "split"
                firsts, rests = value
                hit = any(len(w) >= 2 and w[0] in firsts and w[1:] in rests for w in distinct)
            elif kind in ("only", "multi"):
                least = 1 if kind == "only" else 2
                hit = any(len(w) >= least and all(ch in value for ch in w) for w in distinct)
            else:
                at = 0 if kind == "first" else -1
                hit = any(w and w[at] in value for w in distinct)
            if hit:
                bits |= 1 << i
        return bits


#: The process's word classes (every extractor's tagger reports all of them).
WORDS = WordClasses()
