"""Word classes (workers.extract.words): a rule or refine step skipped for a text without its
words gives what it gives when it runs; the bits are those of the words' classes."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tests.helpers.ja_texts import HARD_TEXTS, with_seed
from workers.extract import get_extractor
from workers.extract.entities import EntityExtractor, rows_by_c
from workers.extract.model import Span
from workers.extract.rules import HAS_TITLE_END, RULE_NEEDS, titles_inside_words
from workers.extract.tokens import Tokens
from workers.extract.words import WORDS, WordClasses

NER_DEV = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "ner-dev" / "ner-dev.json"
)
ALL = -1  # every bit: what tokens made without a scan have


def _texts() -> list[str]:
    texts = with_seed(list(HARD_TEXTS))
    texts += ["カナダ政府は発表した。", "日米韓の首脳とバイデン米大統領、訪中した岸田文雄首相。"]
    if NER_DEV.exists():
        texts += [d["text"] for d in json.loads(NER_DEV.read_text(encoding="utf-8"))[:1500]]
    return texts


def _with_words(tokens: Tokens, words: int) -> Tokens:
    return Tokens(tokens.surface, tokens.pos, None, tokens.chunks, tokens.starts(), words)


def _every_word(tokens: Tokens) -> Tokens:
    """The same tokens with every class bit set: each step runs all of its code."""
    return _with_words(tokens, ALL)


@pytest.fixture(scope="module")
def ex() -> EntityExtractor:
    return get_extractor()


def _random_spans(rng: random.Random, n: int) -> list[Span]:
    spans = set()
    for _ in range(rng.randrange(1, 8)):
        a = rng.randrange(n)
        spans.add((a, min(n, a + rng.randrange(1, 5)), rng.choice(["PER", "ORG", "LOC"])))
    return sorted(spans)


def test_a_rule_skipped_for_a_text_without_its_words_would_keep_its_spans(
    ex: EntityExtractor,
) -> None:
    """The model's spans through the rules, and random spans over the same tokens into each."""
    pos = ex.tokenize.pos_name
    rng = random.Random(4)
    skipped = 0
    for text in _texts():
        tokens, spans = ex.tokenize.scanned(text, ex.tagger.scan)
        if not tokens.surface:
            continue
        full = _every_word(tokens)
        for rule in ex.span_rules:
            needs = RULE_NEEDS.get(rule)
            for given in (spans, _random_spans(rng, len(tokens))):
                ran = rule(full, given, pos)
                if needs is not None and not tokens.words & needs:
                    assert ran == given, (rule.__name__, text[:40])
                    skipped += 1
                assert rule(tokens, given, pos) == ran, (rule.__name__, text[:40])
            spans = rule(tokens, spans, pos)
    assert skipped > 1000


def test_refine_steps_skipped_for_a_text_without_their_words_keep_the_rows(
    ex: EntityExtractor,
) -> None:
    pos = ex.tokenize.pos_name
    g, c = ex.gazetteer, ex.countries
    changed = 0
    for text in _texts():
        tokens, spans = ex.spans(text)
        if not spans or ex.c_rows is None:
            continue
        rows = rows_by_c(ex.c_rows, text, tokens, spans) or []
        full = _every_word(tokens)
        words = tokens.words
        titled = titles_inside_words(rows)
        if not words & HAS_TITLE_END:
            assert titled == rows, text[:40]
        placed = c.apply(text, full, pos, titled)
        if not words & c.has_starter:
            assert placed == titled, text[:40]
        if not c.needs_find(words):
            assert placed == c.drop_bare(titled), text[:40]
        assert c.apply(text, tokens, pos, titled) == placed
        known = g.merge(text, full, placed)
        if words & g.org_needs != g.org_needs and words & g.place_needs != g.place_needs:
            assert known == placed, text[:40]
        assert g.merge(text, tokens, placed) == known
        assert ex.refine(text, tokens, rows) == ex.refine(text, full, rows)
        changed += known != rows
    assert changed > 20


def test_scan_bits_are_the_classes_of_the_words(ex: EntityExtractor) -> None:
    for text in _texts()[:300]:
        tokens, _ = ex.tokenize.scanned(text, ex.tagger.scan)
        assert tokens.words == WORDS.of(tokens.surface, ex.tagger.word_classes)


def test_word_classes_register_once_and_test_each_kind() -> None:
    classes = WordClasses()
    titles = classes.bit("in", ["氏", "首相"])
    assert classes.bit("in", ("首相", "氏")) == titles == 1
    first, last, only = (
        classes.bit("first", "米英"),
        classes.bit("last", "党"),
        classes.bit("only", "日米"),
    )
    assert (first, last, only) == (2, 4, 8)
    assert classes.of(["岸田", "首相"]) == titles
    assert classes.of(["英国"]) == first
    assert classes.of(["自民党", "米"]) == last | first | only
    assert classes.of(["日米", ""]) == only
    assert classes.of(["日本"]) == 0
    state = classes.bit("split", ("米英", ["首相", "政府"]))
    assert state == 16 and classes.bit("split", ("米英", ("政府", "首相"))) == state
    assert classes.of(["米首相"]) == first | state
    assert classes.of(["米国", "英首相代理"]) == first
    several = classes.bit("multi", "日米")
    assert classes.of(["米"]) == first | only and classes.of(["日米"]) == only | several
    with pytest.raises(ValueError):
        classes.bit("in-order", "x")
