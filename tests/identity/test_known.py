"""The known-name tables: complete on their own terms, with the forms news writes."""

from __future__ import annotations

import pytest

from workers.identity.known import DATA, known_names


def test_every_iso_country_has_a_key_and_its_japanese_names_find_it() -> None:
    known = known_names()
    keys = {k for (kind, _), k in known.keys.items() if kind == "LOCATION"}
    assert len(keys) >= 249  # ISO 3166-1 countries and territories, plus CLDR regions
    us = known.key("LOCATION", "アメリカ合衆国")
    assert us == "LOCATION:アメリカ合衆国"
    for form in ("アメリカ", "米国", "米", "合衆国"):
        assert known.key("LOCATION", form) == us, form
    assert known.key("LOCATION", "英国") == known.key("LOCATION", "イギリス")
    assert known.key("LOCATION", "豪州") == known.key("LOCATION", "オーストラリア")
    assert known.key("LOCATION", "東南アジア") == "LOCATION:東南アジア"  # a CLDR region


def test_every_one_kanji_abbreviation_names_a_country_with_its_readings() -> None:
    known = known_names()
    for ch in "日米英仏独伊露中韓朝台印豪加比越":
        abbr = known.abbreviations[ch]
        assert abbr.readings and abbr.key.startswith("LOCATION:")
    assert known.abbreviations["日"].key == "LOCATION:日本"


@pytest.mark.parametrize(
    ("form", "key"),
    [
        ("日銀", "ORGANIZATION:日本銀行"),
        ("経産省", "ORGANIZATION:経済産業省"),
        ("文科省", "ORGANIZATION:文部科学省"),
        ("自民", "ORGANIZATION:自由民主党"),
        ("立民", "ORGANIZATION:立憲民主党"),
        ("国連", "ORGANIZATION:国際連合"),
        ("NATO", "ORGANIZATION:北大西洋条約機構"),
        ("IMF", "ORGANIZATION:国際通貨基金"),
        ("東証", "ORGANIZATION:東京証券取引所"),
        ("FRB", "ORGANIZATION:連邦準備制度理事会"),
    ],
)
def test_organisation_short_forms(form: str, key: str) -> None:
    assert known_names().key("ORGANIZATION", form) == key
    assert known_names().only_type(form) == "ORGANIZATION"


def test_every_ministry_of_the_cabinet_is_listed() -> None:
    known = known_names()
    ministries = ["総務", "法務", "外務", "財務", "文部科学", "厚生労働", "農林水産", "経済産業",
                  "国土交通", "環境", "防衛"]  # fmt: skip
    for name in ministries:
        assert known.key("ORGANIZATION", name + "省") == f"ORGANIZATION:{name}省"


def test_tables_name_their_sources() -> None:
    for path in DATA.glob("*.tsv"):
        if path.name == "spot_words.tsv":
            continue
        head = path.read_text(encoding="utf-8").split("\n", 8)[:8]
        assert any("ource" in line or "GENERATED" in line for line in head), path.name


def test_countries_table_is_what_the_build_writes() -> None:
    """data/countries.tsv is rebuilt by `python -m workers.identity.build` from CLDR and
    pycountry; its rows (not the header, which names the library versions) match a rebuild."""
    pytest.importorskip("pycountry")
    pytest.importorskip("babel")
    from workers.identity.build import rows

    shipped = [
        line.split("\t")
        for line in (DATA / "countries.tsv").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    built = [[code, canonical, " ".join(others)] for code, canonical, others in rows()]
    assert shipped == built


def test_spotted_names_are_cached_for_the_installed_dictionary() -> None:
    """data/spot_words.tsv holds the Sudachi words of every spotted name (rebuilt by the same
    command), so a worker starts without tokenizing them."""
    from workers.extract.gazetteer import dictionary_fingerprint

    lines = (DATA / "spot_words.tsv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == f"# sudachidict\t{dictionary_fingerprint()}"
    cached = {line.split("\t")[0] for line in lines[1:]}
    assert cached == set(known_names().spot)
