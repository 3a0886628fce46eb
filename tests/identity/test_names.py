"""When two names of one type can be one entity (pure string relations)."""

from __future__ import annotations

import pytest

from workers.identity.names import abbreviates, person_short


@pytest.mark.parametrize(
    ("short", "full"),
    [
        ("日銀", "日本銀行"),
        ("東証", "東京証券取引所"),
        ("経産省", "経済産業省"),
        ("立民", "立憲民主党"),
        ("国連", "国際連合"),
        ("東電", "東京電力ホールディングス"),
        ("トヨタ", "トヨタ自動車"),
        ("ソフトバンク", "ソフトバンクグループ"),
        ("三菱UFJ", "三菱UFJフィナンシャル・グループ"),
        ("JR東日本", "東日本旅客鉄道"),
        ("維新", "日本維新の会"),
        ("自民党", "自由民主党"),
    ],
)
def test_organisation_abbreviations(short: str, full: str) -> None:
    assert abbreviates(short, full, "ORGANIZATION")


@pytest.mark.parametrize(
    ("short", "full", "kind"),
    [
        ("銀行", "日本銀行", "ORGANIZATION"),  # a generic last word is no short form
        ("委員会", "原子力規制委員会", "ORGANIZATION"),
        ("大阪", "大阪府", "LOCATION"),  # places join through the tables only
        ("ウラジーミル", "ウラジーミル・プーチン", "ORGANIZATION"),
    ],
)
def test_not_abbreviations(short: str, full: str, kind: str) -> None:
    assert not abbreviates(short, full, kind)


def test_person_short_forms() -> None:
    assert person_short("岸田", "岸田文雄")
    assert person_short("プーチン", "ウラジーミル・プーチン")
    assert not person_short("ウラジーミル", "ウラジーミル・プーチン")
    assert not person_short("岸", "岸田文雄")  # one kanji: too loose across articles
