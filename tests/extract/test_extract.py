"""Behaviour of the extract stage: seed page, name splitting, aliases, offsets, byte limit."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from workers.extract import Entity, get_extractor
from workers.extract.canonical import Mention, resolve_aliases
from workers.extract.rules import join_katakana_dots, split_open_bracket, split_person_prefix
from workers.extract.tokens import SUDACHI_MAX_BYTES, Tokens, split_for_sudachi

SEED = Path(__file__).resolve().parents[2] / ".." / "shared" / "seed" / "body.txt"

SEED_EXPECTED = {
    "PERSON": {"プーチン", "金正恩", "アルトヨム・ルーキン", "ハモン・パチェコ・パルド"},
    "ORGANIZATION": {"朝鮮労働党", "国連", "極東連邦大学", "キングス・カレッジ", "ロイター"},
    "LOCATION": {
        "ロシア",
        "北朝鮮",
        "ウクライナ",
        "中国",
        "米国",
        "日本",
        "韓国",
        "ベラルーシ",
        "北東アジア",
        "東欧",
        "欧州",
        "ソウル",
        "ロンドン",
    },
}


def extract(text: str) -> list[Entity]:
    ents = get_extractor()(text)
    for e in ents:  # every entity's offsets point at its text
        assert text[e.start : e.end] == e.text
    return ents


@pytest.fixture(scope="module")
def seed() -> tuple[str, list[Entity]]:
    if not SEED.exists():
        pytest.skip("shared seed page not available")
    text = SEED.read_text(encoding="utf-8")
    return text, extract(text)


def test_seed_finds_every_listed_entity(seed: tuple[str, list[Entity]]) -> None:
    _, ents = seed
    found = {(e.type, e.text) for e in ents}
    for kind, names in SEED_EXPECTED.items():
        for name in names:
            assert (kind, name) in found, (kind, name)


def test_seed_has_no_spurious_person_or_organization(seed: tuple[str, list[Entity]]) -> None:
    _, ents = seed
    for e in ents:
        if e.type in ("PERSON", "ORGANIZATION"):
            # 金 (from 金総書記) is a mention of 金正恩; everything else is a listed name
            assert e.text in SEED_EXPECTED[e.type] or e.normalized in SEED_EXPECTED[e.type], e


def test_seed_every_occurrence_of_the_leader_names(seed: tuple[str, list[Entity]]) -> None:
    text, ents = seed
    spans = {(e.start, e.end) for e in ents if e.type == "PERSON"}
    for name in ("プーチン",):
        at = [i for i in range(len(text)) if text.startswith(name, i)]
        assert at and all((i, i + len(name)) in spans for i in at)


def test_titled_short_mention_joins_full_name(seed: tuple[str, list[Entity]]) -> None:
    text, ents = seed
    kim = [e for e in ents if e.type == "PERSON" and e.text == "金"]
    assert kim, "金総書記 should yield a PERSON mention 金"
    assert all(e.normalized == "金正恩" and e.key == "PERSON:金正恩" for e in kim)
    assert all(text[e.end : e.end + 3] == "総書記" for e in kim)


def test_name_glued_to_its_party_is_split() -> None:
    ents = extract("金正恩朝鮮労働党総書記は演説した。")
    assert ("PERSON", "金正恩") in {(e.type, e.text) for e in ents}
    assert ("ORGANIZATION", "朝鮮労働党") in {(e.type, e.text) for e in ents}


def test_titles_are_not_part_of_person_names() -> None:
    ents = extract("ロシアのプーチン大統領とバイデン大統領が会談した。")
    people = {e.text for e in ents if e.type == "PERSON"}
    assert "プーチン" in people
    assert not any(p.endswith("大統領") for p in people)


def test_offsets_survive_full_width_and_half_width_input() -> None:
    text = "ＮＡＴＯの会合で、ﾌﾟｰﾁﾝ大統領はロシアの立場を説明した。"
    ents = extract(text)
    for e in ents:
        assert e.normalized == unicodedata.normalize("NFKC", e.normalized)
    by_text = {e.text: e for e in ents}
    assert by_text["ロシア"].start == text.index("ロシア")
    # the entity text is what the writer typed; the canonical name is NFKC + Sudachi's form
    assert (by_text["ＮＡＴＯ"].start, by_text["ＮＡＴＯ"].normalized) == (0, "NATO")
    assert by_text["ﾌﾟｰﾁﾝ"].normalized == "プーチン"
    assert by_text["ﾌﾟｰﾁﾝ"].start == text.index("ﾌﾟｰﾁﾝ")


def test_offsets_are_code_points_across_lines() -> None:
    text = "𠮷野家の話。\n\nロシアと中国。\r\n日本と韓国。"
    ents = extract(text)
    assert {"ロシア", "中国", "日本", "韓国"} <= {e.text for e in ents if e.type == "LOCATION"}


# --- rules and aliases, on hand-made tokens -------------------------------------------------


def _tokens(*pieces: tuple[str, str]) -> tuple[Tokens, Callable[[int], tuple[str, ...]]]:
    """Tokens from (surface, kind) pairs; kind is the Sudachi POS[2] the rule looks at."""
    pos_ids = {"人名": 1, "地名": 2, "一般": 3, "記号": 4}
    names = {
        1: ("名詞", "固有名詞", "人名", "*", "*", "*"),
        2: ("名詞", "固有名詞", "地名", "*", "*", "*"),
        3: ("名詞", "普通名詞", "一般", "*", "*", "*"),
        4: ("補助記号", "一般", "*", "*", "*", "*"),
    }
    toks = Tokens([s for s, _ in pieces], [pos_ids[k] for _, k in pieces])
    return toks, names.__getitem__


def test_split_person_prefix_rule() -> None:
    toks, pos = _tokens(
        ("金正", "人名"), ("恩", "一般"), ("朝鮮", "地名"), ("労働", "一般"), ("党", "一般")
    )
    assert split_person_prefix(toks, [(0, 5, "ORG")], pos) == [(0, 2, "PER"), (2, 5, "ORG")]
    # an organisation that merely starts with a place name is left alone
    toks, pos = _tokens(("朝鮮", "地名"), ("労働", "一般"), ("党", "一般"))
    assert split_person_prefix(toks, [(0, 3, "ORG")], pos) == [(0, 3, "ORG")]


def test_bracket_and_katakana_dot_rules() -> None:
    toks, pos = _tokens(
        ("キングス", "一般"),
        ("・", "記号"),
        ("カレッジ", "一般"),
        ("(", "記号"),
        ("ロンドン", "地名"),
    )
    assert split_open_bracket(toks, [(0, 5, "ORG")], pos) == [(0, 3, "ORG"), (4, 5, "LOC")]
    assert join_katakana_dots(toks, [(0, 1, "ORG")], pos) == [(0, 3, "ORG")]


def test_aliases_join_the_earlier_full_name() -> None:
    ms = [
        Mention(0, 9, "PERSON", "ウラジーミル・プーチン", "ウラジーミル・プーチン"),
        Mention(20, 24, "PERSON", "プーチン", "プーチン"),
        Mention(30, 33, "PERSON", "金正恩", "金正恩"),
        Mention(40, 41, "PERSON", "金", "金"),
        Mention(50, 55, "ORGANIZATION", "朝鮮労働党", "朝鮮労働党"),
        Mention(60, 63, "ORGANIZATION", "労働党", "労働党"),
    ]
    out = [m.normalized for m in resolve_aliases(ms)]
    assert out == [
        "ウラジーミル・プーチン",
        "ウラジーミル・プーチン",
        "金正恩",
        "金正恩",
        "朝鮮労働党",
        "朝鮮労働党",
    ]


def test_aliases_need_the_full_name_first_and_unambiguous() -> None:
    ms = [Mention(0, 1, "PERSON", "金", "金"), Mention(5, 8, "PERSON", "金正恩", "金正恩")]
    assert [m.normalized for m in resolve_aliases(ms)] == ["金", "金正恩"]
    ms = [
        Mention(0, 4, "PERSON", "金大中", "金大中"),
        Mention(5, 8, "PERSON", "金正恩", "金正恩"),
        Mention(9, 10, "PERSON", "金", "金"),
    ]
    assert resolve_aliases(ms)[-1].normalized == "金"  # two candidates: keep own form
    ms = [Mention(0, 4, "LOCATION", "北朝鮮", "北朝鮮"), Mention(5, 7, "PERSON", "朝鮮", "朝鮮")]
    assert resolve_aliases(ms)[-1].normalized == "朝鮮"  # types never mix


# --- Sudachi's byte limit -------------------------------------------------------------------


def test_split_keeps_every_chunk_under_the_byte_limit() -> None:
    line = "ロシアのプーチン大統領は北朝鮮を訪れた。" * 3000  # one line, ~180 kB
    text = "見出し\n" + line + "\n末尾の行。"
    chunks = split_for_sudachi(text)
    assert all(len(c.encode("utf-8")) <= SUDACHI_MAX_BYTES for _, c in chunks)
    assert all(text[o : o + len(c)] == c for o, c in chunks)
    assert "".join(c for _, c in chunks) == text  # nothing lost, nothing repeated
    # cuts fall on sentence ends, so no name is cut in two
    assert all(c.endswith(("。", "\n")) for _, c in chunks[:-1])


def test_long_article_is_extracted_end_to_end() -> None:
    sentence = "ロシアのプーチン大統領は北朝鮮を訪れた。"
    text = sentence * 3000 + "最後に日本の首相が会見した。"
    assert len(text.encode("utf-8")) > 3 * SUDACHI_MAX_BYTES
    ents = extract(text)
    late = [e for e in ents if e.start > len(text) - 20]
    assert any(e.text == "日本" and e.type == "LOCATION" for e in late)
    assert sum(1 for e in ents if e.text == "プーチン") == 3000


def test_empty_and_blank_texts() -> None:
    assert extract("") == []
    assert extract(" \n\u3000\n") == []


def test_rule_shortcuts_keep_the_rules_tests() -> None:
    """split_open_bracket's set of openers is its `s in _OPEN` test (multi-character and empty
    surfaces too); direction_places returns its spans sorted even when it changes nothing."""
    from workers.extract.rules import _OPEN, _OPEN_PARTS, direction_places

    for s in ["(", "（「", "", "「『【", "()", "x", "(（「『【［[〈《<＜", "＜>", "ab"]:
        assert (s in _OPEN_PARTS) == (s in _OPEN), s
    toks = Tokens(["北", "の", "東京"], [0, 0, 0])
    spans = [(2, 3, "LOC"), (0, 1, "ORG")]
    assert direction_places(toks, spans, lambda p: ("名詞", "普通名詞", "一般", "*")) == sorted(
        spans
    )


# --- type errors the dashboard showed, fixed by general rules ----------------------------------


def test_everyday_words_are_no_organisation() -> None:
    ents = extract("温室効果ガスの削減について、国際エネルギー機関が報告した。")
    assert "温室効果ガス" not in {e.text for e in ents}
    assert ("ORGANIZATION", "国際エネルギー機関") in {(e.type, e.text) for e in ents}


def test_a_name_with_a_title_is_a_person() -> None:
    found = {
        (e.type, e.text) for e in extract("玉木代表は会見した。イタリアのメローニ首相も来た。")
    }
    assert {("PERSON", "玉木"), ("PERSON", "メローニ")} <= found
    assert not any(text.endswith("代表") for _, text in found)


def test_a_full_name_run_into_the_post_is_the_person() -> None:
    found = {(e.type, e.text) for e in extract("河野太郎デジタル相は11日、発表した。")}
    assert ("PERSON", "河野太郎") in found


def test_a_countrys_government_also_mentions_the_country() -> None:
    found = {(e.type, e.text) for e in extract("カナダ政府は8日、声明を出した。")}
    assert ("LOCATION", "カナダ") in found


def test_known_short_forms_the_model_misses_are_found() -> None:
    text = "公明の代表と維新の幹部は、国民民主の支持率について語った。"
    found = {(e.type, e.text) for e in extract(text)}
    assert {
        ("ORGANIZATION", "公明"),
        ("ORGANIZATION", "維新"),
        ("ORGANIZATION", "国民民主"),
    } <= found
    # inside a longer word a known name is not spotted
    assert "共産党" not in {e.text for e in extract("「共産党宣言」を読んだ。")}
