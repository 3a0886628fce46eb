"""One article's mentions grouped into entities: brackets, abbreviations in either order,
known names (their keys and types), and what the article teaches the alias book."""

from __future__ import annotations

from workers.identity import Identity
from workers.identity.article import group
from workers.identity.book import alias_entry, name_entry
from workers.identity.known import known_names

ORG = "ORGANIZATION:"


def rows_of(text: str, names: list[tuple[str, str]]) -> list[tuple[str, str, int, int, str]]:
    out, pos = [], 0
    for name, kind in names:
        at = text.index(name, pos)
        out.append((name, kind, at, at + len(name), name))
        pos = at + len(name)
    return out


def test_a_bracket_defines_an_alias_and_teaches_it() -> None:
    text = "北大西洋条約機構（NATO）と日本放送協会(NHK)が発表した。"
    rows = rows_of(text, [("北大西洋条約機構", "ORGANIZATION"), ("NATO", "ORGANIZATION"),
                          ("日本放送協会", "ORGANIZATION"), ("NHK", "ORGANIZATION")])  # fmt: skip
    art = group(text, rows, known_names())
    assert art.keys == [ORG + "北大西洋条約機構"] * 2 + [ORG + "日本放送協会"] * 2


def test_short_forms_join_their_full_form_in_either_order() -> None:
    text = "日銀によると、日本銀行の総裁が経産省と経済産業省で会談した。"
    rows = rows_of(text, [("日銀", "ORGANIZATION"), ("日本銀行", "ORGANIZATION"),
                          ("経産省", "ORGANIZATION"), ("経済産業省", "ORGANIZATION")])  # fmt: skip
    keys = group(text, rows, known_names()).keys
    assert keys == [ORG + "日本銀行"] * 2 + [ORG + "経済産業省"] * 2


def test_an_unknown_full_form_teaches_its_short_form() -> None:
    text = "東京電力ホールディングスは発表した。東電によると順調だ。"
    rows = rows_of(text, [("東京電力ホールディングス", "ORGANIZATION"), ("東電", "ORGANIZATION")])
    art = group(text, rows, known_names())
    assert art.keys == [ORG + "東京電力ホールディングス"] * 2
    assert name_entry(ORG + "東京電力ホールディングス") in art.evidence
    assert alias_entry(ORG + "東電", ORG + "東京電力ホールディングス") in art.evidence


def test_a_known_name_typed_otherwise_takes_its_type() -> None:
    """立民 was typed PERSON by the model: a known party is an organisation."""
    text = "立民の代表が語った。"
    ents, _ = Identity(learn=False).entities(text, [("立民", "PERSON", 0, 2, "立民")])
    assert (ents[0]["type"], ents[0]["key"]) == ("ORGANIZATION", ORG + "立憲民主党")


def test_a_short_form_that_fits_two_full_forms_joins_neither() -> None:
    text = "立憲民主党と国民民主党と民主の関係"
    rows = rows_of(text, [("立憲民主党", "ORGANIZATION"), ("国民民主党", "ORGANIZATION"),
                          ("民主", "ORGANIZATION")])  # fmt: skip
    assert group(text, rows, known_names()).keys[2] == ORG + "民主"
