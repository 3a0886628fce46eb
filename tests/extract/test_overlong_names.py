"""Names longer than any real name are not entities (workers.extract.rules.drop_overlong)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workers.extract import get_extractor
from workers.extract.model import GOLD_TAG, OUTPUT_TYPE
from workers.extract.rules import MAX_NAME_CHARS, SPAN_RULES, drop_overlong
from workers.extract.tokens import Tokens

NER_DEV = Path(__file__).resolve().parents[3] / "shared" / "data" / "ner-dev" / "ner-dev.json"


def test_spans_over_the_bound_are_dropped_and_the_rest_kept() -> None:
    surface = ["岸田"] * 60 + ["首相", "は", "東京", "へ"]
    toks = Tokens(surface, [0] * len(surface))
    spans = [(0, 60, "LOC"), (0, 50, "PER"), (0, 51, "ORG"), (62, 63, "LOC"), (60, 61, "PER")]
    # 120, 100 and 102 characters; the last two are short
    assert drop_overlong(toks, spans, lambda _: ("",)) == [(0, 50, "PER"), (62, 63, "LOC"),
                                                           (60, 61, "PER")]  # fmt: skip
    assert drop_overlong in SPAN_RULES


def test_the_entity_expansion_page_gives_no_20000_character_location() -> None:
    """The issue's page: 岸田 repeated 10,004 times came out as one 20,007-character LOCATION
    (and its count-table key). The real names around the run still come out."""
    text = "東京都の山田太郎知事は大阪で会見した。" + "岸田" * 10_004 + "。\n首相は京都を訪れた。"
    rows = get_extractor().rows(text)
    assert rows and all(end - start <= MAX_NAME_CHARS for _, _, start, end, _ in rows)
    assert all(len(normalized) <= MAX_NAME_CHARS for *_, normalized in rows)
    found = {(name, kind) for name, kind, *_ in rows}
    assert {("東京都", "LOCATION"), ("山田太郎", "PERSON"), ("京都", "LOCATION")} <= found


@pytest.mark.skipif(not NER_DEV.exists(), reason="../shared/data/ner-dev missing")
def test_the_bound_is_well_above_every_gold_name_of_an_emitted_type() -> None:
    """Where the bound comes from (it is a rule, no data is read at run time)."""
    emitted = {gold for gold, tag in GOLD_TAG.items() if tag in OUTPUT_TYPE}
    longest = 0
    for sentence in json.loads(NER_DEV.read_text(encoding="utf-8")):
        for ent in sentence["entities"]:
            if ent["type"] in emitted:
                longest = max(longest, len(ent["name"]))
    assert longest == 43
    assert 2 * longest <= MAX_NAME_CHARS
