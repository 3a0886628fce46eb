"""The alias book: roots are a function of the set of entries (never of their order), an
ambiguous short name keeps its own key, and the cached roots always equal a fresh book's."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from workers.identity.book import AliasBook, alias_entry, derived_shorts, name_entry

P = "PERSON:"
ORG = "ORGANIZATION:"


def test_a_surname_finds_the_one_full_name_and_an_ambiguous_one_keeps_its_key() -> None:
    book = AliasBook()
    assert book.root(P + "高市") == P + "高市"
    book.add(name_entry(P + "高市早苗"))
    assert book.root(P + "高市") == P + "高市早苗"
    book.add(name_entry(P + "高市太郎"))  # a second 高市: no longer clear
    assert book.root(P + "高市") == P + "高市"
    assert book.root(P + "高市早苗") == P + "高市早苗"


def test_family_name_of_a_dotted_name() -> None:
    book = AliasBook()
    book.add(name_entry(P + "ウラジーミル・プーチン"))
    assert book.root(P + "プーチン") == P + "ウラジーミル・プーチン"
    assert book.root(P + "ウラジーミル") == P + "ウラジーミル"


def test_explicit_aliases_win_and_chain() -> None:
    book = AliasBook()
    book.add(alias_entry(ORG + "NTT", ORG + "日本電信電話"))
    assert book.root(ORG + "NTT") == ORG + "日本電信電話"
    book.add(alias_entry(ORG + "東電", ORG + "東京電力"))
    book.add(name_entry(ORG + "東京電力ホールディングス"))  # 東京電力 is its short form
    assert book.root(ORG + "東京電力") == ORG + "東京電力ホールディングス"
    assert book.root(ORG + "東電") == ORG + "東京電力ホールディングス"


def test_known_names_are_their_table_keys_whatever_was_learned() -> None:
    book = AliasBook()
    book.add(alias_entry(ORG + "日銀", ORG + "日銀本店"))  # a wrong lesson cannot move a known name
    assert book.root(ORG + "日銀") == ORG + "日本銀行"
    assert book.root("LOCATION:米国") == "LOCATION:アメリカ合衆国"


def test_derived_short_forms() -> None:
    assert P + "岸田" in derived_shorts(P + "岸田文雄")
    assert ORG + "トヨタ" in derived_shorts(ORG + "トヨタ自動車")
    assert ORG + "JR東日本" in derived_shorts(ORG + "東日本旅客鉄道")
    assert ORG + "東電" in derived_shorts(ORG + "東京電力")
    assert ORG + "東京" not in derived_shorts(ORG + "東京電力")  # a prefix, not an abbreviation
    assert ORG + "銀行" not in derived_shorts(ORG + "日本政策投資銀行")


def test_a_place_is_no_short_form_of_an_organisation() -> None:
    book = AliasBook()
    book.add(name_entry(ORG + "日本郵政グループ"))
    assert book.root(ORG + "日本郵政") == ORG + "日本郵政グループ"
    book.add(name_entry(ORG + "日本銀行協会"))
    assert book.root(ORG + "日本") == ORG + "日本"


PEOPLE = ["高市", "高市早苗", "高市太郎", "プーチン", "ウラジーミル・プーチン"]
BODIES = ["NTT", "日本電信電話", "東電", "東京電力", "東京電力ホールディングス", "トヨタ",
          "トヨタ自動車", "トヨタ紡織", "東北電力", "日銀"]  # fmt: skip
NAMES = [P + n for n in PEOPLE] + [ORG + n for n in BODIES]
ENTRIES = [name_entry(k) for k in NAMES] + [
    alias_entry(a, b) for a in NAMES for b in NAMES if a != b and a.split(":")[0] == b.split(":")[0]
]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(ENTRIES), max_size=25), st.randoms(use_true_random=False))
def test_roots_depend_on_the_set_of_entries_only(entries: list[str], rnd: random.Random) -> None:
    """Two books fed the same entries in different orders (and one fed some twice) agree on
    every root, and a book that answered after every entry (its cache updated step by step)
    agrees with a fresh one."""
    step = AliasBook()
    for entry in entries:
        step.add(entry)
        for name in NAMES:
            step.root(name)  # fill the cache as the worker does between records
    shuffled = list(entries) + entries[: len(entries) // 2]
    rnd.shuffle(shuffled)
    fresh = AliasBook()
    fresh.update(shuffled)
    assert {n: step.root(n) for n in NAMES} == {n: fresh.root(n) for n in NAMES}
