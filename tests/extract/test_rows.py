"""The compiled entity-row builder (_viterbi.rows) is EntityExtractor.py_mentions, only faster.

rows() takes the C path whenever the module is built, so these tests pin that both give the
same rows: on real texts, on random spans over real tokens (spans across lines, tags without an
output type, names that are aliases of each other), and on the inputs C leaves to Python.
"""

from __future__ import annotations

import random

import pytest

from tests.helpers.ja_texts import HARD_TEXTS, with_seed
from workers.extract import get_extractor
from workers.extract.canonical import Mention, resolve_aliases
from workers.extract.entities import (
    EntityExtractor,
    EntityRow,
    compiled_rows,
    mention_rows,
    rows_by_c,
)
from workers.extract.model import Span
from workers.extract.tokens import Tokens

ALIASES = (
    "ウラジーミル・プーチン氏が来日。\nプーチン氏は東京で、金正恩氏と金大中氏の話をした。金氏は"
)
TEXTS = [
    *HARD_TEXTS,
    ALIASES,
    "ヴェネツィアとベネチア、ＩＢＭとIBM。\n\n朝鮮労働党と労働党、北朝鮮と朝鮮。",
    "",
]


def _texts() -> list[str]:
    return with_seed(TEXTS)


def _py_rows(ex: EntityExtractor, text: str, tokens: Tokens, spans: list[Span]) -> list[EntityRow]:
    return mention_rows(ex.py_mentions(text, tokens, spans))


def _c_rows(text: str, tokens: Tokens, spans: list[Span]) -> list[EntityRow] | None:
    rows = compiled_rows()
    assert rows is not None
    return rows_by_c(rows, text, tokens, spans)


@pytest.fixture(scope="module")
def ex() -> EntityExtractor:
    if compiled_rows() is None:
        pytest.skip("_viterbi not built")
    return get_extractor()


def test_compiled_rows_are_the_python_rows(ex: EntityExtractor) -> None:
    for text in _texts():
        tokens, spans = ex.spans(text)
        assert _c_rows(text, tokens, spans) == _py_rows(ex, text, tokens, spans), text[:40]


def test_compiled_rows_of_random_spans(ex: EntityExtractor) -> None:
    """Random spans over real tokens: many aliases, names across lines and chunk edges."""
    rng = random.Random(7)
    tags = ["PER", "ORG", "LOC", "FAC", "X"]
    for text in _texts():
        tokens, _ = ex.spans(text)
        n = len(tokens)
        if not n:
            continue
        for _ in range(20):
            spans = []
            for _ in range(rng.randrange(1, 40)):
                a = rng.randrange(n)
                spans.append((a, min(n, a + rng.randrange(1, 5)), rng.choice(tags)))
            assert _c_rows(text, tokens, spans) == _py_rows(ex, text, tokens, spans)


def test_compiled_rows_of_hand_made_tokens() -> None:
    """Tokens without Sudachi morphemes (normalized form = surface), several chunks, aliases
    written with ・, ＝ and ･."""
    if compiled_rows() is None:
        pytest.skip("_viterbi not built")
    surface = ["ハモン", "・", "パルド", "\n", "パルド", "氏", "と", "ＡＢＣ", "=", "ＤＥ", "ＤＥ"]
    text = "".join(surface)
    starts = [0]
    for s in surface[:-1]:
        starts.append(starts[-1] + len(s))
    tokens = Tokens(surface, [0] * len(surface), None, [(0, 0, None), (4, 7, None)], starts)
    spans = [
        (0, 3, "PER"),
        (4, 5, "PER"),
        (7, 10, "ORG"),
        (10, 11, "ORG"),
        (9, 10, "PER"),
        (2, 5, "LOC"),
        (7, 8, "X"),
    ]
    want = mention_rows(EntityExtractor.py_mentions(None, text, tokens, spans))  # type: ignore[arg-type]
    assert _c_rows(text, tokens, spans) == want
    assert ("パルド", "PERSON", 8, 11, "ハモン・パルド") in want  # an alias across lines


@pytest.mark.parametrize(
    "spans", [[(0, 0, "PER")], [(2, 9, "PER")], [(-1, 1, "PER")], [(0, 2, "PER"), (1, 2, "PER")]]
)
def test_compiled_rows_leave_odd_inputs_to_python(spans: list[Span]) -> None:
    """Empty or out-of-range spans, and a PERSON name of only ・ (resolve_aliases raises on it
    in Python), give None: the caller then runs the Python path."""
    if compiled_rows() is None:
        pytest.skip("_viterbi not built")
    surface = ["・", "・"]
    tokens = Tokens(surface, [0, 0], None, None, [0, 1])
    assert _c_rows("・・", tokens, spans) is None


def test_mentions_are_the_rows() -> None:
    ex = get_extractor()
    text = ALIASES
    assert mention_rows(ex.mentions(text)) == ex.rows(text)
    assert all(isinstance(m, Mention) for m in ex.mentions(text))


def test_python_raises_where_compiled_rows_give_none() -> None:
    """The ・-only PERSON case above: Python's resolve_aliases raises (so C must not answer)."""
    with pytest.raises(IndexError):
        resolve_aliases(
            [Mention(0, 2, "PERSON", "・・", "・・"), Mention(1, 2, "PERSON", "・", "・")]
        )
