"""The learned part: a linear-chain CRF (crfsuite) over Sudachi tokens, BIO labels.

The model file ships in the package (`ner.crf`, rebuilt by `python -m workers.extract.train`,
which also writes the run-time tables `ner.bin` that decoder.py tags with).
Labels are finer than the output classes (施設 and 製品/イベント have their own tags) because
those names look different in context; `OUTPUT_TYPE` folds them into what we emit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workers.extract.tokens import Token

MODEL_FILE = "ner.crf"

# gold ner-dev type -> model tag
GOLD_TAG = {
    "人名": "PER",
    "法人名": "ORG",
    "政治的組織名": "ORG",
    "その他の組織名": "ORG",
    "地名": "LOC",
    "施設名": "FAC",
    "製品名": "MISC",
    "イベント名": "MISC",
}
# model tag -> emitted entity type (tags missing here are recognised but not emitted)
OUTPUT_TYPE = {"PER": "PERSON", "ORG": "ORGANIZATION", "LOC": "LOCATION", "FAC": "LOCATION"}

Span = tuple[int, int, str]  # token index start, token index end (exclusive), tag


def model_path() -> Path:
    """Where the shipped model lives (inside the package)."""
    return Path(__file__).with_name("data") / MODEL_FILE


def bio_spans(labels: list[str]) -> list[Span]:
    """Token spans from a BIO label sequence; a stray I- starts a new span."""
    spans: list[Span] = []
    start, tag = -1, ""
    for i, lab in enumerate(labels):
        if lab == "O" or lab[0] == "B" or lab[2:] != tag:
            if start >= 0:
                spans.append((start, i, tag))
            start, tag = (-1, "") if lab == "O" else (i, lab[2:])
    if start >= 0:
        spans.append((start, len(labels), tag))
    return spans


def bio_labels(tokens: list[Token], entities: list[tuple[int, int, str]]) -> list[str]:
    """BIO labels for tokens from character spans (a token overlapping a span belongs to it)."""
    labels = ["O"] * len(tokens)
    for s, e, tag in sorted(entities):
        inside = [i for i, t in enumerate(tokens) if t.start < e and t.end > s]
        if not inside or any(labels[i] != "O" for i in inside):
            continue
        labels[inside[0]] = "B-" + tag
        for i in inside[1:]:
            labels[i] = "I-" + tag
    return labels


class Tagger:
    """python-crfsuite's tagger over feature rows: for training checks and tests.

    Extraction uses decoder.TypeTagger (same labels, much faster), so crfsuite is imported
    only here.
    """

    def __init__(self, path: Path | None = None) -> None:
        import pycrfsuite

        self._tagger: Any = pycrfsuite.Tagger()
        self._tagger.open(str(path or model_path()))

    def __call__(self, rows: list[list[str]]) -> list[str]:
        labels: list[str] = self._tagger.tag(rows)
        return labels
