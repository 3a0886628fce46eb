"""Entity extraction pipeline, composed here in one place:

    tokenize (Sudachi, one pass) -> sentences -> featurize -> tag (CRF) -> BIO spans -> span rules
    -> mentions (char offsets, own canonical form) -> within-article aliases

Each step is a small component in its own module; this file only wires them together.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from workers.extract.canonical import Mention, own_form, resolve_aliases
from workers.extract.features import Featurizer
from workers.extract.model import OUTPUT_TYPE, Span, Tagger, bio_spans
from workers.extract.rules import SPAN_RULES
from workers.extract.tokens import SUDACHI_MAX_BYTES, Token, Tokenizer, split_for_sudachi

__all__ = ["SUDACHI_MAX_BYTES", "Entity", "EntityExtractor", "get_extractor", "split_for_sudachi"]


@dataclass(frozen=True, slots=True)
class Entity:
    text: str
    type: str  # PERSON | ORGANIZATION | LOCATION
    start: int  # code-point offset into the text, inclusive
    end: int  # exclusive
    normalized: str

    def as_dict(self) -> dict[str, object]:
        return {"text": self.text, "type": self.type, "start": self.start, "end": self.end,
                "normalized": self.normalized}

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
        self.featurize = Featurizer(self.tokenize.pos_name)
        self.tag = Tagger()
        self.span_rules = SPAN_RULES

    def __call__(self, text: str) -> list[Entity]:
        tokens = self.tokenize(text)
        if not tokens:
            return []
        spans: list[Span] = []
        for a, b in sentences(tokens):
            spans.extend((a + x, a + y, tag)
                         for x, y, tag in bio_spans(self.tag(self.featurize(tokens[a:b]))))
        for rule in self.span_rules:
            spans = rule(tokens, spans, self.tokenize.pos_name)
        mentions = [
            Mention(tokens[a].start, tokens[b - 1].end, OUTPUT_TYPE[tag],
                    text[tokens[a].start:tokens[b - 1].end], own_form(tokens[a:b]))
            for a, b, tag in sorted(spans) if tag in OUTPUT_TYPE
        ]
        return [Entity(m.text, m.type, m.start, m.end, m.normalized)
                for m in resolve_aliases(mentions)]


@functools.cache
def get_extractor() -> EntityExtractor:
    """One extractor per process: loading the dictionary and model is the slow part."""
    return EntityExtractor()
