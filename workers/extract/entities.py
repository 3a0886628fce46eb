"""Entity extraction pipeline, composed here in one place:

    tokenize (Sudachi, one pass) -> type id per token -> tag (CRF, per sentence) -> BIO spans
    -> span rules -> mentions (char offsets, own canonical form) -> within-article aliases
    -> country abbreviations (日米韓 -> 日, 米, 韓) -> known names (公明, 日銀; their types)
    -> acronyms in brackets (石油輸出国機構（OPEC）)

The entity's identity (its count key and display name, across articles) is not decided here:
``workers.identity`` gives it from these rows.

Each step is a small component in its own module; this file only wires them together. At run
time the CRF is `decoder.TypeTagger` (weights regrouped per token type, compiled Viterbi);
python-crfsuite and the string features of `features.py` are for training (and for tests that
check both agree).
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from workers.extract.canonical import Mention, own_form, resolve_aliases
from workers.extract.compounds import CountryCompounds
from workers.extract.decoder import MAX_TYPES, TypeTagger
from workers.extract.gazetteer import Gazetteer, cached_words
from workers.extract.model import OUTPUT_TYPE, Span
from workers.extract.parens import bracketed_acronyms
from workers.extract.rules import HAS_TITLE_END, RULE_NEEDS, SPAN_RULES, titles_inside_words
from workers.extract.tokens import SUDACHI_MAX_BYTES, Token, Tokenizer, Tokens, split_for_sudachi
from workers.extract.words import WORDS
from workers.identity.known import known_names

__all__ = [
    "SUDACHI_MAX_BYTES",
    "Entity",
    "EntityExtractor",
    "EntityRow",
    "get_extractor",
    "split_for_sudachi",
]

#: An entity as a plain tuple, ``Entity``'s fields in order: (text, type, start, end,
#: normalized). What the extract stage process sends back (``workers.runtime.stagejobs``).
EntityRow = tuple[str, str, int, int, str]


def row_dict(row: EntityRow) -> dict[str, object]:
    """An entity row as the dict the enriched record and ``newsflow extract`` write (the one
    place that names its keys; a literal, as this runs for every entity)."""
    text, kind, start, end, normalized = row
    return {"text": text, "type": kind, "start": start, "end": end, "normalized": normalized}


# _viterbi.rows(text, spans, surface, starts, chunks, output_type, normalize) -> rows or None
RowsOf = Callable[..., list[EntityRow] | None]


def compiled_rows() -> RowsOf | None:
    """The C builder of entity rows (`_viterbi.rows`) if the module was built, else None."""
    try:
        from workers.extract._viterbi import rows
    except ImportError:
        return None
    return rows


def rows_by_c(rows: RowsOf, text: str, tokens: Tokens, spans: list[Span]) -> list[EntityRow] | None:
    """The rows of a text's spans built by ``rows`` (`_viterbi.rows`); None for inputs it
    leaves to Python (``mention_rows`` of ``py_mentions`` then)."""
    return rows(
        text,
        spans,
        tokens.surface,
        tokens.starts(),
        tokens.chunks,
        OUTPUT_TYPE,
        unicodedata.normalize,
    )


def mention_rows(mentions: list[Mention]) -> list[EntityRow]:
    """Mentions as entity rows (text, type, start, end, normalized)."""
    return [(m.text, m.type, m.start, m.end, m.normalized) for m in mentions]


@dataclass(frozen=True, slots=True)
class Entity:
    text: str
    type: str  # PERSON | ORGANIZATION | LOCATION
    start: int  # code-point offset into the text, inclusive
    end: int  # exclusive
    normalized: str

    def as_dict(self) -> dict[str, object]:
        return row_dict((self.text, self.type, self.start, self.end, self.normalized))

    @property
    def key(self) -> str:
        """Canonical key that the count tables use."""
        return f"{self.type}:{self.normalized}"


def sentences(tokens: list[Token]) -> list[tuple[int, int]]:
    """Token ranges of sentences (cut after 。 and at line breaks), as the model was trained."""
    out: list[tuple[int, int]] = []
    start = 0
    for i, t in enumerate(tokens):
        s = t.surface
        if s == "。" or "\n" in s:
            end = i if "\n" in s else i + 1
            if end > start:
                out.append((start, end))
            start = i + 1
    if start < len(tokens):
        out.append((start, len(tokens)))
    return out


class EntityExtractor:
    """Holds the tokenizer and model; call it with a whole article to get its entities."""

    def __init__(self) -> None:
        self.tokenize = Tokenizer()
        self.tagger = TypeTagger(self.tokenize.pos_name)
        # the type cache's size (tagger.bound starts it over when it grew too big)
        self._n_types = self.tagger.decoder.n_types
        self.span_rules = SPAN_RULES
        # each rule with the word classes it needs (None: every text)
        self._rules = tuple((rule, RULE_NEEDS.get(rule)) for rule in self.span_rules)
        self.c_rows: RowsOf | None = compiled_rows() if self.tagger.compiled else None
        known = known_names()
        self.countries = CountryCompounds(known, self.tokenize.lookup)
        self.gazetteer = Gazetteer(known, cached_words(self.tokenize), self.tokenize.pos_name)
        # every step's word classes are registered by now: the tagger's scan reports them
        self.tagger.set_word_classes(tuple(WORDS.classes))

    def __call__(self, text: str) -> list[Entity]:
        return [Entity(*row) for row in self.rows(text)]

    def rows(self, text: str) -> list[EntityRow]:
        """The entities of a text as plain tuples (text, type, start, end, normalized): the
        worker's path. The compiled `_viterbi.rows` builds them when it is there (it returns
        None for inputs it leaves to Python); `py_mentions` is its pure-Python twin."""
        tokens, spans = self.spans(text)
        got: list[EntityRow] | None = None
        if not spans:
            got = []
        elif self.c_rows is not None:
            got = rows_by_c(self.c_rows, text, tokens, spans)
        if got is None:
            got = mention_rows(self.py_mentions(text, tokens, spans))
        return self.refine(text, tokens, got)

    def refine(self, text: str, tokens: Tokens, rows: list[EntityRow]) -> list[EntityRow]:
        """The rows with country abbreviations split out, known names spotted and typed, and
        bracketed acronyms added (each step has a cheap test that skips most texts)."""
        words = tokens.words  # a step whose words the text lacks leaves the rows as they are
        if words & HAS_TITLE_END:
            rows = titles_inside_words(rows)
        countries = self.countries  # (countries.needs_find, without a call a text)
        if words & countries.has_compound or (
            words & countries.has_lone and words & countries.lone_needs
        ):
            rows = countries.apply(text, tokens, self.tokenize.pos_name, rows)
        elif words & countries.has_lone:  # no country word to find: only its rows can go
            rows = countries.drop_bare(rows)
        gazetteer = self.gazetteer
        if words & gazetteer.org_needs == gazetteer.org_needs or (
            words & gazetteer.place_needs == gazetteer.place_needs
        ):
            rows = gazetteer.merge(text, tokens, rows)
        if "(" in text or "（" in text:  # bracketed_acronyms' own first test, without the call
            rows = bracketed_acronyms(text, rows)
        return rows

    def mentions(self, text: str) -> list[Mention]:
        """The entities of a text as canonical.Mention records (built from ``rows``)."""
        return [
            Mention(start, end, kind, name, normalized)
            for name, kind, start, end, normalized in self.rows(text)
        ]

    def spans(self, text: str) -> tuple[Tokens, list[Span]]:
        """A text's tokens and its name spans after the span rules (token indices, tag)."""
        tagger = self.tagger
        if self._n_types() > MAX_TYPES:  # tagger.bound()'s test, without its call a text
            tagger.bound()
        tokens, spans = self.tokenize.scanned(text, tagger.scan)
        pos_name = self.tokenize.pos_name
        words = tokens.words
        for rule, needs in self._rules:
            if needs is None or needs & words:  # else the rule would keep the spans as they are
                spans = rule(tokens, spans, pos_name)
        return tokens, spans

    def py_mentions(self, text: str, tokens: Tokens, spans: list[Span]) -> list[Mention]:
        """Mentions of the spans, sorted, with own and alias-resolved canonical forms (the
        pure-Python twin of _viterbi.rows)."""
        surface, starts, norms = tokens.surface, tokens.starts(), tokens.norms
        mentions = []
        for a, b, tag in sorted(spans):
            kind = OUTPUT_TYPE.get(tag)
            if kind is not None:
                start, end = starts[a], starts[b - 1] + len(surface[b - 1])
                mentions.append(
                    Mention(start, end, kind, text[start:end], own_form(surface[a:b], norms(a, b)))
                )
        return resolve_aliases(mentions) if len(mentions) > 1 else mentions


@functools.cache
def get_extractor() -> EntityExtractor:
    """One extractor per process: loading the dictionary and model is the slow part."""
    return EntityExtractor()
