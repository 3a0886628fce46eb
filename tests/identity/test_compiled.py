"""The compiled article step (_article.c) is article.py / book.py / names.py, only faster.

``Identity`` takes the C path whenever the module is built, so these tests pin that both give
the same kinds, keys and evidence (and so the same records and book): on the dev sets' and the
check set's articles as the extractor sees them, on random articles over a pool of names made to
hit every rule (brackets, abbreviations, tails, known names, more than eight names), on random
strings for ``derived_shorts`` and ``abbreviates``, and on the inputs C leaves to Python.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.ja_texts import HARD_TEXTS, with_seed
from workers.extract import get_extractor
from workers.identity import Identity
from workers.identity.article import Row, group, mention_of
from workers.identity.book import AliasBook, alias_entry, derived_shorts, name_entry
from workers.identity.compiled import compiled_keys
from workers.identity.known import known_names
from workers.identity.names import ORG_TAILS, abbreviates

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
KINDS = ("PERSON", "ORGANIZATION", "LOCATION")


def words(block: str) -> list[str]:
    """Whitespace-separated words (keeps the long lists readable)."""
    return block.split()


# Names that exercise the rules: full forms and their short forms of every shape, known names
# written several ways, ・-joined names, latin, generic words, the JR companies.
POOL = words(
    """
    岸田文雄 岸田 文雄 ウラジーミル・プーチン プーチン ウラジーミル ジョー=バイデン
    バイデン 高市早苗 高市 高市太郎 トヨタ自動車 トヨタ 東京電力ホールディングス 東京電力
    東電 東京電力HD ソフトバンクグループ ソフトバンクG ソフトバンク
    三菱UFJフィナンシャル・グループ 三菱UFJ 三菱UFJFG 東日本旅客鉄道 JR東日本 日本銀行 日銀
    経済産業省 経産省 国土交通省 国交省 立憲民主党 立民 日本維新の会 維新 国際連合 国連
    北大西洋条約機構 NATO 日本放送協会 NHK アメリカ 米国 米 アメリカ合衆国 日本 中国 韓国
    大阪 大阪府 銀行 党 委員会 政府 自民 自由民主党 民主 国民民主党 ＩＢＭ IBM ・・
    東京証券取引所 東証 日本経済団体連合会 経団連 ヤマト運輸 ヤマト 金正恩 朝鮮労働党
    労働党 日産自動車 日産 楽天グループ 楽天 セブン&アイ・ホールディングス
"""
)


def c_keys() -> Any:
    keys = compiled_keys()
    if keys is None:
        pytest.skip("workers.identity._article not built")
    return keys


def py_article(text: str, rows: list[Row]) -> tuple[list[str], list[str], list[str]]:
    """What Identity.entities takes from article.py: (kinds, keys, evidence)."""
    known = known_names()
    if len(rows) == 1:
        m = mention_of(rows[0], known)
        return [m.kind], [m.key], list(m.evidence)
    kinds, keys, evidence = group(text, rows, known)
    return kinds, keys, list(evidence)


def c_article(text: str, rows: list[Row]) -> tuple[list[str], list[str], list[str]] | None:
    known = known_names()
    got = c_keys().article(text, rows, known.by_key(), known.single)
    return None if got is None else (got[0], got[1], list(got[2]))


def random_article(rng: random.Random, n: int) -> tuple[str, list[Row]]:
    """A text of names between fillers, some in brackets after the one before, and its rows."""
    text, rows = "", []  # type: tuple[str, list[Row]]
    for _ in range(n):
        name = rng.choice(POOL)
        kind = rng.choice(KINDS) if rng.random() < 0.3 else _kind_of(name)
        if rows and rng.random() < 0.2:
            text += rng.choice("（(")
            rows.append((name, kind, len(text), len(text) + len(name), name))
            text += name + rng.choice("）)")
        else:
            text += rng.choice(["は", "と", "の", "、", "によると"])
            written = name if rng.random() < 0.8 else name.upper().replace("I", "Ｉ")
            rows.append((written, kind, len(text), len(text) + len(written), name))
            text += written
    return text + "。", rows


PEOPLE = words(
    """
    岸田文雄 岸田 文雄 プーチン バイデン 高市 高市早苗 高市太郎 金正恩
    ウラジーミル・プーチン ジョー=バイデン ウラジーミル ・・
"""
)
PLACES = words("アメリカ 米国 米 アメリカ合衆国 日本 中国 韓国 大阪 大阪府")


def _kind_of(name: str) -> str:
    if name in PEOPLE:
        return "PERSON"
    if name in PLACES:
        return "LOCATION"
    return "ORGANIZATION"


def test_random_articles_give_the_same_kinds_keys_and_evidence() -> None:
    c_keys()
    rng = random.Random(16)
    fell_back = 0
    for _ in range(3000):
        text, rows = random_article(rng, rng.choice([1, 2, 2, 3, 5, 8, 9, 12, 30]))
        want: Any
        try:
            want = py_article(text, rows)
        except IndexError as exc:  # ・・ as a person's full name: Python raises on it
            want = exc
        got = c_article(text, rows)
        if got is None:
            fell_back += 1
            continue
        assert not isinstance(want, Exception), (text, rows)
        assert got == want, (text, rows)
    assert fell_back < 300  # only the odd names above fall back


def test_articles_of_the_dev_sets_as_extracted() -> None:
    """Every line of ner-dev, identity-dev and the hard texts, through the extractor."""
    c_keys()
    texts = with_seed(list(HARD_TEXTS))
    for name in ("ner-dev/ner-dev.json", "identity-dev/identity-dev.json"):
        path = DATA / name
        if path.exists():
            texts += [d["text"] for d in json.loads(path.read_text(encoding="utf-8"))]
    ex = get_extractor()
    checked = 0
    for text in texts:
        rows = ex.rows(text)
        if rows:
            assert c_article(text, rows) == py_article(text, rows), text[:60]
            checked += 1
    assert checked > 10


def test_identity_records_and_book_are_the_same_both_ways() -> None:
    """Article after article with learning: the same records, new entries and book."""
    c_keys()
    rng = random.Random(3)
    fast, slow = Identity(compiled=True), Identity(compiled=False)
    for _ in range(1500):
        text, rows = random_article(rng, rng.choice([1, 2, 3, 6, 10]))
        if any(r[4] == "・・" for r in rows):
            continue
        assert fast.entities(text, rows) == slow.entities(text, rows), (text, rows)
    assert fast.book.entries == slow.book.entries and len(fast.book.entries) > 100


def random_name(rng: random.Random) -> str:
    """A name of pieces: kanji, katakana, latin, dots, organisation tails."""
    pieces = ["東", "京", "電", "力", "日", "本", "銀", "行", "国", "際", "連", "合", "省", "党",
              "トヨタ", "ソフト", "バンク", "ー", "・", "=", "＝", "･", "UFJ", "JR", "G", "HD",
              "a", "の", "会", "々", *ORG_TAILS[:20], "旅客鉄道", "ホールディングス",
              "グループ"]  # fmt: skip
    return "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 6)))


def test_derived_shorts_of_random_and_pool_names() -> None:
    keys = c_keys()
    rng = random.Random(5)
    names = POOL + [random_name(rng) for _ in range(4000)] + ["", ":", "a:b"]
    for name in names:
        for kind in (*KINDS, "OTHER", ""):
            key = f"{kind}:{name}" if kind else name
            assert keys.derived_shorts(key) == derived_shorts.__wrapped__(key), key


def test_abbreviates_on_random_pairs() -> None:
    keys = c_keys()
    rng = random.Random(9)
    names = POOL + [random_name(rng) for _ in range(600)]
    for _ in range(40000):
        full = rng.choice(names)
        if rng.random() < 0.5:  # a short form made of the full one: its pieces in order
            picks = sorted(rng.sample(range(len(full)), k=rng.randrange(1, len(full) + 1)))
            short = "".join(full[i] for i in picks)
        else:
            short = rng.choice(names)
        kind = rng.choice(KINDS)
        try:
            want: bool | None = abbreviates(short, full, kind)
        except IndexError:
            want = None
        assert keys.abbreviates(short, full, kind) is want, (short, full, kind)


@pytest.mark.parametrize(
    "rows",
    [
        [("東京", "LOCATION", 0, 2, "")],  # an empty name
        [["東京", "LOCATION", 0, 2, "東京"]],  # a row as a list
        [("東京", "LOCATION", 0, 2, "東京"), ("NHK", "ORGANIZATION", -1, 2, "NHK")],  # offsets
        [("東京", "LOCATION", 0, 2)],  # four fields
        [("東京", "LOCATION", 0, 2, "東京"), ("・・", "PERSON", 2, 4, "・・"),
         ("・", "PERSON", 4, 5, "・")],  # a person's name of dots only: Python raises
    ],
)  # fmt: skip
def test_odd_rows_are_left_to_python(rows: list[Any]) -> None:
    known = known_names()
    assert c_keys().article("東京(・・・)", rows, known.by_key(), known.single) is None


def test_book_update_is_add_entry_by_entry() -> None:
    """Keys.update over random entries (new, repeated, malformed) leaves the book as
    AliasBook.add does, roots and their invalidation included."""
    keys = c_keys()
    rng = random.Random(11)
    fast, slow = AliasBook(), AliasBook(compiled=False)
    names = [f"{rng.choice(KINDS)}:{rng.choice(POOL)}" for _ in range(300)]
    for _ in range(400):
        entries = []
        for _ in range(rng.randrange(1, 6)):
            a, b = sorted((rng.choice(names), rng.choice(names)))  # no cycles: roots stay cheap
            entries.append(rng.choice([alias_entry(a, b), name_entry(a), f"A\t{a}", "N", a]))
        new = keys.update(entries, fast.compiled_state())
        fast.version += len(new)
        assert new == slow.update(entries)
        for key in rng.sample(names, 5):
            assert fast.root(key) == slow.root(key)
    for attr in ("entries", "aliases", "names", "derived", "version", "_roots", "_through"):
        assert getattr(fast, attr) == getattr(slow, attr), attr
    assert len(fast.entries) > 200
