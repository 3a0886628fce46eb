"""Entity extraction over Sudachi tokens (first version: proper nouns, adjacent ones merged)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sudachipy import dictionary, tokenizer

SUDACHI_MAX_BYTES = 49_149  # Sudachi refuses longer inputs


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


def split_for_sudachi(text: str, limit: int = SUDACHI_MAX_BYTES) -> list[tuple[int, str]]:
    """Cut text into (offset, chunk) pieces each under Sudachi's byte limit, at line ends when possible."""
    out: list[tuple[int, str]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        start = pos
        pos += len(line)
        while len(line.encode("utf-8")) > limit:
            cut = limit // 4  # 4 bytes is the widest UTF-8 code point
            out.append((start, line[:cut]))
            start += cut
            line = line[cut:]
        if line.strip():
            out.append((start, line))
    return out


class EntityExtractor:
    """Holds one Sudachi tokenizer; call it with a text to get its entities."""

    def __init__(self) -> None:
        self._tok = dictionary.Dictionary().create()
        self._mode = tokenizer.Tokenizer.SplitMode.C

    def __call__(self, text: str) -> list[Entity]:
        entities: list[Entity] = []
        for offset, chunk in split_for_sudachi(text):
            run: list = []
            for m in [*self._tok.tokenize(chunk, self._mode), None]:
                pos = m.part_of_speech() if m is not None else None
                if pos is not None and pos[1] == "固有名詞":
                    run.append(m)
                    continue
                if run:
                    entities.append(self._entity(run, offset))
                    run = []
        return entities

    @staticmethod
    def _entity(run: list, offset: int) -> Entity:
        pos = run[-1].part_of_speech()
        kind = {"人名": "PERSON", "地名": "LOCATION"}.get(pos[2], "ORGANIZATION")
        start, end = offset + run[0].begin(), offset + run[-1].end()
        surface = "".join(m.surface() for m in run)
        return Entity(surface, kind, start, end, "".join(m.normalized_form() for m in run))


@functools.cache
def get_extractor() -> EntityExtractor:
    """One extractor per process: loading the dictionary is the slow part."""
    return EntityExtractor()
