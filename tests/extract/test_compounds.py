"""Country abbreviations: compounds split into one mention per country with its own offsets,
and the other senses of the same kanji kept out (the issue's list, and words like them)."""

from __future__ import annotations

import pytest

from workers.extract import get_extractor
from workers.identity import Identity

US, JP, KR, CN = "LOCATION:アメリカ合衆国", "LOCATION:日本", "LOCATION:韓国", "LOCATION:中国"


def countries(text: str) -> list[tuple[str, int, int, str]]:
    """(written, start, end, key) of each country mention, through identity as shipped."""
    rows = get_extractor().rows(text)
    ents, _ = Identity(learn=False).entities(text, rows)
    for e in ents:
        assert text[e["start"] : e["end"]] == e["text"]
    return [(e["text"], e["start"], e["end"], e["key"]) for e in ents if e["type"] == "LOCATION"]


def test_three_country_compound_is_three_mentions_with_their_own_offsets() -> None:
    got = countries("日米韓の首脳は会談した。")
    assert got[:3] == [("日", 0, 1, JP), ("米", 1, 2, US), ("韓", 2, 3, KR)]
    assert not any(e[0] == "日米韓" for e in got)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("米中関係が悪化した。", [("米", US), ("中", CN)]),
        ("露朝の軍事協力が進む。", [("露", "LOCATION:ロシア"), ("朝", "LOCATION:北朝鮮")]),
        ("日英の首脳が会談した。", [("日", JP), ("英", "LOCATION:イギリス")]),
        ("独仏は共同声明を出した。", [("独", "LOCATION:ドイツ"), ("仏", "LOCATION:フランス")]),
        ("日米豪印の枠組みを強化する。", [("日", JP), ("米", US), ("豪", "LOCATION:オーストラリア"),
                                         ("印", "LOCATION:インド")]),
        ("首相は訪中した。", [("中", CN)]),
        ("外相は訪米する予定だ。", [("米", US)]),
        ("大統領が来日した。", [("日", JP)]),
        ("日中関係の改善を目指す。", [("日", JP), ("中", CN)]),  # 日中 is also "daytime"
        ("米印の貿易協議が始まった。", [("米", US), ("印", "LOCATION:インド")]),  # 米印 is also ※
    ],
)  # fmt: skip
def test_compounds_and_prefixed_forms(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(w, k) for w, _, _, k in countries(text)] == expected


def test_lone_abbreviation_before_a_word_of_state() -> None:
    assert [(w, k) for w, _, _, k in countries("豪政府が発表した。")] == [
        ("豪", "LOCATION:オーストラリア")
    ]
    assert [(w, k) for w, _, _, k in countries("英首相が演説した。")] == [
        ("英", "LOCATION:イギリス")
    ]


def test_country_plus_title_in_one_word_gives_the_country_only() -> None:
    """米大統領 was one LOCATION; it is 米 (the country), and the title is no name."""
    text = "バイデン米大統領は演説した。"
    ents = get_extractor()(text)
    assert ("LOCATION", "米") in {(e.type, e.text) for e in ents}
    assert not any(e.text == "米大統領" for e in ents)
    assert ("PERSON", "バイデン") in {(e.type, e.text) for e in ents}


def test_a_name_before_country_and_title_is_a_person() -> None:
    """ブリンケン was typed ORGANIZATION (and once LOCATION, with the 米 glued on)."""
    ents = get_extractor()("ブリンケン米国務長官は会見した。")
    assert [(e.type, e.text) for e in ents] == [("PERSON", "ブリンケン"), ("LOCATION", "米")]


@pytest.mark.parametrize(
    "text",
    [
        "米価が上がった。",  # rice price
        "米の価格が上がった。",  # rice
        "金の価格は最高値を更新した。",  # gold
        "会見中に記者が質問した。",  # 中 = during
        "豪雨の影響で鉄道が止まった。",  # heavy rain
        "印刷大手の決算は増益となった。",  # printing
        "加工食品の値上げが続いた。",  # processing
        "日中は暑くなる見込みだ。",  # daytime
        "朝日新聞によると、西日が強い。",  # 朝日 (a name), 西日 (afternoon sun)
        "3日米国防総省は",  # a date: 日 after a number is no country
        "期間中政府は対策を続けた。",  # 中 ends 期間中
        "日露戦争の後、両国は講和した。",  # the name of an event
    ],
)
def test_other_senses_are_no_country(text: str) -> None:
    got = [c for c in countries(text) if len(c[0]) == 1]
    if text.startswith("3日米"):  # 米 of 米国防総省 is the country, 日 is the date
        assert [c[0] for c in got] == ["米"]
    else:
        assert got == []


def test_central_america_and_taichung_are_places_not_compounds() -> None:
    got = countries("中米の国々と台中市の企業が参加した。")
    assert all(len(w) > 1 for w, _, _, _ in got)


def test_empty_words_from_sudachi_do_not_stop_the_search() -> None:
    """Sudachi gives empty words after … (its input normalisation; the seed page has them):
    the search for country words passes them by instead of failing on the whole text."""
    text = "米中関係が悪化した…\n"
    assert "" in get_extractor().spans(text)[0].surface
    assert [(w, k) for w, _, _, k in countries(text)] == [("米", US), ("中", CN)]
